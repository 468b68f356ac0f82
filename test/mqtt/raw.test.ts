// Raw packets for what a well-behaved client library will not send: malformed lengths,
// reserved bits, packets out of order, oversized packets, a second CONNECT, flow-control
// violations; and the keep alive, on a manual clock.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { AuthenticationFailedError } from '../../src/core/auth.js';
import type { Authenticator } from '../../src/core/auth.js';
import type { BrokerCore } from '../../src/core/broker.js';
import { encodePacket } from '../../src/protocols/mqtt/codec/encoder.js';
import type { Packet } from '../../src/protocols/mqtt/codec/packets.js';
import { RawClient, startTestBroker } from './helpers.js';
import type { TestBroker } from './helpers.js';

const connect4: Packet = { cmd: 'connect', clientId: 'raw4', protocolVersion: 4, clean: true, keepalive: 0 };
const connect5: Packet = { cmd: 'connect', clientId: 'raw5', protocolVersion: 5, clean: true, keepalive: 0 };

describe('raw packets', () => {
  let broker: TestBroker & { core: BrokerCore };
  before(async () => {
    broker = await startTestBroker({
      mqtt: { packetBytesMax: 4096, receiveMaximum: 2, topicAliasMaximum: 2 },
    });
  });
  after(() => broker.close());

  async function connected(version: 4 | 5): Promise<RawClient> {
    const client = await RawClient.connect(broker.port, version);
    client.send(
      version === 4 ? connect4 : ({ ...connect5, clientId: `raw5-${Math.random()}` } as Packet),
      version,
    );
    const connack = await client.next('connack');
    assert.ok(connack.cmd === 'connack');
    assert.equal(version === 4 ? connack.returnCode : connack.reasonCode, 0);
    return client;
  }

  test('[MQTT-3.1.0-1] a first packet other than CONNECT closes the connection', async () => {
    const client = await RawClient.connect(broker.port);
    client.send({ cmd: 'pingreq' });
    assert.equal(await client.waitClosed(), true);
    assert.equal(client.packets.length, 0);
  });

  test('[MQTT-3.1.0-2] a second CONNECT closes the connection (v5: DISCONNECT 0x82)', async () => {
    const v4 = await connected(4);
    v4.send(connect4);
    assert.equal(await v4.waitClosed(), true);
    const v5 = await connected(5);
    v5.send(connect5, 5);
    const disconnect = await v5.next('disconnect');
    assert.ok(disconnect.cmd === 'disconnect');
    assert.equal(disconnect.reasonCode, 0x82);
    assert.equal(await v5.waitClosed(), true);
  });

  test('[MQTT-3.1.2-2] an unsupported protocol level gets CONNACK 0x01', async () => {
    const client = await RawClient.connect(broker.port);
    // CONNECT, protocol name MQTT, level 6.
    client.write([0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x06, 0x02, 0x00, 0x00, 0x00, 0x01, 0x78]);
    const connack = await client.next('connack');
    assert.ok(connack.cmd === 'connack');
    assert.equal(connack.returnCode, 1);
    assert.equal(await client.waitClosed(), true);
  });

  test('a remaining length of five bytes is malformed: v5 DISCONNECT 0x81', async () => {
    const client = await connected(5);
    client.write([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]);
    const disconnect = await client.next('disconnect');
    assert.ok(disconnect.cmd === 'disconnect');
    assert.equal(disconnect.reasonCode, 0x81);
  });

  test('[MQTT-2.2.2-2] reserved flag bits close the connection (v3)', async () => {
    const client = await connected(4);
    // SUBSCRIBE must have flags 0b0010; send 0b0000.
    client.write([0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00]);
    assert.equal(await client.waitClosed(), true);
  });

  test('[MQTT-3.3.1-4] QoS 3 closes the connection', async () => {
    const client = await connected(4);
    client.write([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]);
    assert.equal(await client.waitClosed(), true);
  });

  test('an oversized packet is refused from its header: v5 DISCONNECT 0x95', async () => {
    const client = await connected(5);
    client.write([0x30, 0x80, 0x80, 0x01]); // remaining length 16384 > 4096
    const disconnect = await client.next('disconnect');
    assert.ok(disconnect.cmd === 'disconnect');
    assert.equal(disconnect.reasonCode, 0x95);
  });

  test('[MQTT-3.3.2-2] a wildcard in a PUBLISH topic closes the connection', async () => {
    const client = await connected(5);
    client.send(
      { cmd: 'publish', topic: 'a/+', payload: Buffer.from('x'), qos: 0, dup: false, retain: false },
      5,
    );
    const disconnect = await client.next('disconnect');
    assert.ok(disconnect.cmd === 'disconnect');
    assert.equal(disconnect.reasonCode, 0x90);
  });

  test('more QoS 1 PUBLISH packets than Receive Maximum unacknowledged: DISCONNECT 0x93', async () => {
    // A stream captures the topic, so each PUBACK waits for the fsync that confirms it;
    // Receive Maximum is 2, and a third PUBLISH sent before any PUBACK is one too many.
    await broker.core.addStream({ name: 'rm', subjects: ['rm.>'] });
    const client = await connected(5);
    const publish = (id: number): Packet => ({
      cmd: 'publish',
      topic: 'rm/x',
      payload: Buffer.from('x'),
      qos: 1,
      messageId: id,
      dup: false,
      retain: false,
    });
    client.write(Buffer.concat([...[1, 2, 3].map((id) => encodePacket(publish(id), 5))]));
    const disconnect = await client.next('disconnect');
    assert.ok(disconnect.cmd === 'disconnect');
    assert.equal(disconnect.reasonCode, 0x93);
  });

  test('a topic alias above the maximum: DISCONNECT 0x94; an unknown alias: 0x82', async () => {
    const high = await connected(5);
    high.send(
      {
        cmd: 'publish',
        topic: 'x',
        payload: Buffer.from('x'),
        qos: 0,
        dup: false,
        retain: false,
        properties: { topicAlias: 3 },
      },
      5,
    );
    assert.equal(((await high.next('disconnect')) as { reasonCode?: number }).reasonCode, 0x94);
    const unknown = await connected(5);
    unknown.send(
      {
        cmd: 'publish',
        topic: '',
        payload: Buffer.from('x'),
        qos: 0,
        dup: false,
        retain: false,
        properties: { topicAlias: 1 },
      },
      5,
    );
    assert.equal(((await unknown.next('disconnect')) as { reasonCode?: number }).reasonCode, 0x82);
  });

  test('AUTH without an authentication method is a protocol error; CONNECT with one gets 0x8C', async () => {
    const client = await connected(5);
    client.send({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-1' } }, 5);
    assert.equal(((await client.next('disconnect')) as { reasonCode?: number }).reasonCode, 0x82);
    const refused = await RawClient.connect(broker.port, 5);
    refused.send({ ...connect5, properties: { authenticationMethod: 'SCRAM-SHA-1' } }, 5);
    assert.equal(((await refused.next('connack')) as { reasonCode?: number }).reasonCode, 0x8c);
    assert.equal(await refused.waitClosed(), true);
  });

  test('[MQTT-3.1.3-8] (3.1.1) an empty client id with clean session 0 gets CONNACK 0x02', async () => {
    const client = await RawClient.connect(broker.port);
    // CONNECT 3.1.1, flags 0 (clean session 0), keep alive 0, client id of zero bytes.
    client.write([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00]);
    assert.equal(((await client.next('connack')) as { returnCode?: number }).returnCode, 0x02);
    assert.equal(await client.waitClosed(), true);
  });

  test('QoS 2 inbound: a retransmitted PUBLISH before PUBREL is not published twice', async () => {
    const subscriber = await connected(4);
    subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q2/x', qos: 0 }] });
    await subscriber.next('suback');
    const publisher = await connected(5);
    const publish: Packet = {
      cmd: 'publish',
      topic: 'q2/x',
      payload: Buffer.from('once'),
      qos: 2,
      messageId: 9,
      dup: false,
      retain: false,
    };
    publisher.send(publish, 5);
    await publisher.next('pubrec');
    publisher.send({ ...publish, dup: true } as Packet, 5);
    await publisher.next('pubrec');
    publisher.send({ cmd: 'pubrel', messageId: 9 }, 5);
    assert.equal(((await publisher.next('pubcomp')) as { messageId?: number }).messageId, 9);
    await subscriber.next('publish');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(subscriber.packets.filter((packet) => packet.cmd === 'publish').length, 0);
  });

  test('outbound flow: no more than the client Receive Maximum in flight [MQTT-3.3.4-9]', async () => {
    const client = await RawClient.connect(broker.port, 5);
    client.send({ ...connect5, clientId: 'rm-client', properties: { receiveMaximum: 2 } }, 5);
    await client.next('connack');
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'flow/x', qos: 1 }] }, 5);
    await client.next('suback');
    const core = broker.server.registry.systemSession();
    for (let index = 0; index < 5; index++) core.publish({ subject: 'flow.x', body: String(index) });
    const first = (await client.next('publish')) as { messageId?: number; payload: Buffer };
    await client.next('publish');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(
      client.packets.filter((packet) => packet.cmd === 'publish').length,
      0,
      'two in flight, no more',
    );
    client.send({ cmd: 'puback', messageId: first.messageId ?? 0 }, 5);
    const third = (await client.next('publish')) as { payload: Buffer };
    assert.equal(third.payload.toString(), '2');
  });
});

describe('client maximum packet size', () => {
  test('[MQTT-3.1.2-25] a packet over the client maximum is skipped, the next one arrives', async () => {
    const broker = await startTestBroker();
    try {
      const client = await RawClient.connect(broker.port, 5);
      client.send({ ...connect5, clientId: 'small', properties: { maximumPacketSize: 64 } } as Packet, 5);
      await client.next('connack');
      client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'mps/+', qos: 1 }] }, 5);
      await client.next('suback');
      const core = broker.server.registry.systemSession();
      core.publish({ subject: 'mps.big', body: Buffer.alloc(200) });
      core.publish({ subject: 'mps.small', body: 'ok' });
      const delivered = (await client.next('publish')) as { topic: string };
      assert.equal(delivered.topic, 'mps/small');
      client.end();
    } finally {
      await broker.close();
    }
  });
});

describe('ordering', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(() => broker.close());

  test('PUBACKs leave in the order the PUBLISH packets arrived [MQTT-4.6.0-2]', async () => {
    const client = await RawClient.connect(broker.port);
    client.send(connect4);
    await client.next('connack');
    for (let id = 1; id <= 20; id++) {
      client.send({
        cmd: 'publish',
        topic: `order/${id % 3}`,
        payload: Buffer.from('x'),
        qos: 1,
        messageId: id,
        dup: false,
        retain: id % 2 === 0,
      });
    }
    const ids: number[] = [];
    for (let count = 0; count < 20; count++)
      ids.push(((await client.next('puback')) as { messageId?: number }).messageId ?? 0);
    assert.deepEqual(
      ids,
      Array.from({ length: 20 }, (_, index) => index + 1),
    );
  });
});

describe('keep alive on a manual clock', () => {
  test('[MQTT-3.1.2-24] silence for 1.5 × keep alive closes; traffic keeps it open', async () => {
    const clock = new ManualClock(Date.now());
    const broker = await startTestBroker({ clock });
    try {
      const client = await RawClient.connect(broker.port, 5);
      client.send({ ...connect5, keepalive: 10 }, 5);
      await client.next('connack');
      clock.advance(14_000);
      client.send({ cmd: 'pingreq' }, 5);
      await client.next('pingresp');
      clock.advance(14_000);
      assert.equal(client.closed, false, 'a packet 14 s in reset the clock');
      clock.advance(1_500);
      assert.equal(((await client.next('disconnect')) as { reasonCode?: number }).reasonCode, 0x8d);
      assert.equal(await client.waitClosed(), true);
    } finally {
      await broker.close();
    }
  });
});

describe('limits', () => {
  test('past the connection limit CONNECT is refused: 0x89 (5.0), 0x03 (3.1.1)', async () => {
    const broker = await startTestBroker({ connectionsMax: 1 });
    try {
      const first = await RawClient.connect(broker.port, 5);
      first.send({ ...connect5, clientId: 'first' } as Packet, 5);
      await first.next('connack');
      const v5 = await RawClient.connect(broker.port, 5);
      v5.send({ ...connect5, clientId: 'second' } as Packet, 5);
      assert.equal(((await v5.next('connack')) as { reasonCode?: number }).reasonCode, 0x89);
      assert.equal(await v5.waitClosed(), true);
      const v4 = await RawClient.connect(broker.port, 4);
      v4.send({ ...connect4, clientId: 'third' } as Packet);
      assert.equal(((await v4.next('connack')) as { returnCode?: number }).returnCode, 0x03);
      first.end();
    } finally {
      await broker.close();
    }
  });

  test('a message over messageBytesMax: PUBACK 0x97 Quota exceeded in 5.0', async () => {
    const broker = await startTestBroker({ messageBytesMax: 100 });
    try {
      const client = await RawClient.connect(broker.port, 5);
      client.send(connect5, 5);
      await client.next('connack');
      client.send(
        {
          cmd: 'publish',
          topic: 'big',
          payload: Buffer.alloc(200),
          qos: 1,
          messageId: 5,
          dup: false,
          retain: false,
        },
        5,
      );
      const puback = (await client.next('puback')) as { reasonCode?: number; messageId?: number };
      assert.equal(puback.messageId, 5);
      assert.equal(puback.reasonCode, 0x97);
      client.end();
    } finally {
      await broker.close();
    }
  });
});

describe('authentication', () => {
  test('the Authenticator decides: bad credentials get 0x86 (5.0) / 0x04 (3.1.1)', async () => {
    const authenticator: Authenticator = {
      authenticate: (request) =>
        request.username === 'alice' && String(request.password) === 'secret'
          ? Promise.resolve({ name: 'alice', anonymous: false, protocol: 'mqtt' })
          : Promise.reject(new AuthenticationFailedError('bad user name or password')),
    };
    const broker = await startTestBroker({ authenticator });
    try {
      const good = await RawClient.connect(broker.port, 5);
      good.send({ ...connect5, username: 'alice', password: Buffer.from('secret') } as Packet, 5);
      assert.equal(((await good.next('connack')) as { reasonCode?: number }).reasonCode, 0);
      good.end();
      const bad5 = await RawClient.connect(broker.port, 5);
      bad5.send({ ...connect5, username: 'alice', password: Buffer.from('wrong') } as Packet, 5);
      assert.equal(((await bad5.next('connack')) as { reasonCode?: number }).reasonCode, 0x86);
      assert.equal(await bad5.waitClosed(), true);
      const bad4 = await RawClient.connect(broker.port, 4);
      bad4.send({ ...connect4, username: 'mallory', password: Buffer.from('x') } as Packet);
      assert.equal(((await bad4.next('connack')) as { returnCode?: number }).returnCode, 0x04);
      assert.equal(await bad4.waitClosed(), true);
    } finally {
      await broker.close();
    }
  });
});
