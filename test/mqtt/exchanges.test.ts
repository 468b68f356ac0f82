// Open exchanges of persistent sessions survive kill -9 of a real broker process
// (exchange-log.ts): an inbound QoS 2 message between PUBREC and PUBREL, an outbound one
// between PUBREL and PUBCOMP, and a retained message sent at subscribe and not acknowledged.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Packet, PublishPacket } from '../../src/protocols/mqtt/codec/packets.js';
import { RawClient, startBrokerProcess } from './helpers.js';
import type { BrokerProcess } from './helpers.js';

function persistentConnect(clientId: string): Packet {
  return {
    cmd: 'connect',
    clientId,
    protocolVersion: 5,
    clean: false,
    keepalive: 0,
    properties: { sessionExpiryInterval: 3600 },
  };
}

/** Connects a persistent v5 session; returns the client and whether the session was present. */
async function connect(broker: BrokerProcess, clientId: string): Promise<[RawClient, boolean]> {
  const client = await RawClient.connect(broker.port, 5);
  client.send(persistentConnect(clientId), 5);
  const connack = (await client.next('connack', 5000)) as { reasonCode?: number; sessionPresent: boolean };
  assert.equal(connack.reasonCode, 0);
  return [client, connack.sessionPresent];
}

async function quiet(client: RawClient, cmd: Packet['cmd'], ms = 300): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  assert.deepEqual(
    client.packets.filter((packet) => packet.cmd === cmd),
    [],
    `no ${cmd} expected`,
  );
}

describe('open exchanges across kill -9', () => {
  let dataDir: string;
  let broker: BrokerProcess | undefined;
  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'weir-mqtt-exchanges-'));
  });
  after(async () => {
    await broker?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function restart(): Promise<BrokerProcess> {
    await broker?.kill();
    broker = await startBrokerProcess(dataDir);
    return broker;
  }

  test('inbound QoS 2: after PUBREC, a DUP re-send is not published again and PUBREL gets PUBCOMP', async () => {
    let current = await restart();
    // A persistent QoS 1 subscriber counts what is published.
    let [subscriber] = await connect(current, 'in-subscriber');
    subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'exin/x', qos: 1 }] }, 5);
    await subscriber.next('suback');
    subscriber.end();

    let [publisher] = await connect(current, 'in-publisher');
    const publish: PublishPacket = {
      cmd: 'publish',
      topic: 'exin/x',
      payload: Buffer.from('exactly once'),
      qos: 2,
      messageId: 7,
      dup: false,
      retain: false,
    };
    publisher.send(publish, 5);
    assert.equal(((await publisher.next('pubrec')) as { messageId?: number }).messageId, 7);

    current = await restart();
    const resumed = await connect(current, 'in-publisher');
    publisher = resumed[0];
    assert.equal(resumed[1], true, 'session present');
    publisher.send({ ...publish, dup: true }, 5);
    const again = (await publisher.next('pubrec')) as { messageId?: number; reasonCode?: number };
    assert.equal(again.messageId, 7);
    assert.equal(again.reasonCode ?? 0, 0);

    // And once more: the hold outlives a second kill, so PUBREL is answered as known.
    current = await restart();
    [publisher] = await connect(current, 'in-publisher');
    publisher.send({ cmd: 'pubrel', messageId: 7 }, 5);
    const pubcomp = (await publisher.next('pubcomp')) as { messageId?: number; reasonCode?: number };
    assert.equal(pubcomp.messageId, 7);
    assert.equal(pubcomp.reasonCode ?? 0, 0, 'PUBCOMP success, not 0x92 Packet Identifier not found');
    publisher.end();

    [subscriber] = await connect(current, 'in-subscriber');
    const delivered = (await subscriber.next('publish', 5000)) as PublishPacket;
    assert.equal(delivered.payload.toString(), 'exactly once');
    subscriber.send({ cmd: 'puback', messageId: delivered.messageId ?? 0 }, 5);
    await quiet(subscriber, 'publish');
    subscriber.end();
  });

  test('inbound QoS 2: killed once the message is durable, before PUBREC, a DUP re-send is not published twice', async () => {
    let current = await restart();
    let [subscriber] = await connect(current, 'crash-subscriber');
    subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'excrash/x', qos: 1 }] }, 5);
    await subscriber.next('suback');
    subscriber.end();
    await current.kill();

    // This broker kills itself once the message is durable, before it answers (test-hooks.ts).
    const dying = await startBrokerProcess(dataDir, { WEIR_TEST_MQTT_KILL_AT: 'qos2-stored' });
    broker = dying;
    let [publisher] = await connect(dying, 'crash-publisher');
    const publish: PublishPacket = {
      cmd: 'publish',
      topic: 'excrash/x',
      payload: Buffer.from('exactly once across a crash'),
      qos: 2,
      messageId: 11,
      dup: false,
      retain: false,
    };
    publisher.send(publish, 5);
    await dying.exited;
    assert.deepEqual(
      publisher.packets.filter((packet) => packet.cmd === 'pubrec'),
      [],
      'the broker died before PUBREC',
    );

    // No PUBREC came, so the client sends the PUBLISH again, with DUP [MQTT-4.3.3-1].
    current = await restart();
    const resumed = await connect(current, 'crash-publisher');
    publisher = resumed[0];
    assert.equal(resumed[1], true, 'session present');
    publisher.send({ ...publish, dup: true }, 5);
    const pubrec = (await publisher.next('pubrec')) as { messageId?: number; reasonCode?: number };
    assert.equal(pubrec.messageId, 11);
    assert.equal(pubrec.reasonCode ?? 0, 0);
    publisher.send({ cmd: 'pubrel', messageId: 11 }, 5);
    assert.equal(((await publisher.next('pubcomp')) as { reasonCode?: number }).reasonCode ?? 0, 0);
    publisher.end();

    [subscriber] = await connect(current, 'crash-subscriber');
    const delivered = (await subscriber.next('publish', 5000)) as PublishPacket;
    assert.equal(delivered.payload.toString(), 'exactly once across a crash');
    subscriber.send({ cmd: 'puback', messageId: delivered.messageId ?? 0 }, 5);
    await quiet(subscriber, 'publish', 500);
    subscriber.end();
  });

  test('outbound QoS 2: after PUBREC, the session resumes with PUBREL, not the PUBLISH [MQTT-4.4.0-1]', async () => {
    let current = await restart();
    let [subscriber] = await connect(current, 'out-subscriber');
    subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'exout/x', qos: 2 }] }, 5);
    await subscriber.next('suback');
    const [publisher] = await connect(current, 'out-publisher');
    publisher.send(
      {
        cmd: 'publish',
        topic: 'exout/x',
        payload: Buffer.from('once'),
        qos: 1,
        messageId: 3,
        dup: false,
        retain: false,
      },
      5,
    );
    await publisher.next('puback');
    publisher.end();
    const delivered = (await subscriber.next('publish', 5000)) as PublishPacket;
    assert.equal(delivered.qos, 1, 'delivered at the published QoS');
    subscriber.send({ cmd: 'puback', messageId: delivered.messageId ?? 0 }, 5);

    // A QoS 2 message this time: PUBLISH, PUBREC, PUBREL, then the broker dies.
    const [publisher2] = await connect(current, 'out-publisher');
    publisher2.send(
      {
        cmd: 'publish',
        topic: 'exout/x',
        payload: Buffer.from('twice?'),
        qos: 2,
        messageId: 4,
        dup: false,
        retain: false,
      },
      5,
    );
    await publisher2.next('pubrec');
    publisher2.send({ cmd: 'pubrel', messageId: 4 }, 5);
    await publisher2.next('pubcomp');
    publisher2.end();
    const second = (await subscriber.next('publish', 5000)) as PublishPacket;
    assert.equal(second.qos, 2);
    subscriber.send({ cmd: 'pubrec', messageId: second.messageId ?? 0 }, 5);
    assert.equal(((await subscriber.next('pubrel')) as { messageId?: number }).messageId, second.messageId);

    current = await restart();
    const resumed = await connect(current, 'out-subscriber');
    subscriber = resumed[0];
    assert.equal(resumed[1], true, 'session present');
    const pubrel = (await subscriber.next('pubrel', 5000)) as { messageId?: number };
    assert.equal(pubrel.messageId, second.messageId);
    await quiet(subscriber, 'publish');
    subscriber.send({ cmd: 'pubcomp', messageId: second.messageId ?? 0 }, 5);
    subscriber.send({ cmd: 'disconnect', reasonCode: 0 }, 5);
    await subscriber.closedPromise;

    // Completed: a reconnect brings neither PUBREL nor PUBLISH.
    [subscriber] = await connect(current, 'out-subscriber');
    await quiet(subscriber, 'pubrel');
    assert.deepEqual(
      subscriber.packets.filter((packet) => packet.cmd === 'publish'),
      [],
    );
    subscriber.end();
  });

  test('a retained QoS 1 message sent at subscribe and not acknowledged comes back after a restart', async () => {
    let current = await restart();
    const [publisher] = await connect(current, 'ret-publisher');
    publisher.send(
      {
        cmd: 'publish',
        topic: 'exret/x',
        payload: Buffer.from('retained'),
        qos: 1,
        messageId: 1,
        dup: false,
        retain: true,
      },
      5,
    );
    await publisher.next('puback');
    publisher.end();

    let [subscriber] = await connect(current, 'ret-subscriber');
    subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'exret/#', qos: 1 }] }, 5);
    await subscriber.next('suback');
    const first = (await subscriber.next('publish', 5000)) as PublishPacket;
    assert.equal(first.retain, true);
    assert.equal(first.dup, false);
    // No PUBACK: the broker dies with the retained delivery in flight.

    current = await restart();
    [subscriber] = await connect(current, 'ret-subscriber');
    const again = (await subscriber.next('publish', 5000)) as PublishPacket;
    assert.equal(again.payload.toString(), 'retained');
    assert.equal(again.retain, true);
    assert.equal(again.dup, true);
    assert.equal(again.messageId, first.messageId, 'the same packet id [MQTT-4.4.0-1]');
    subscriber.send({ cmd: 'puback', messageId: again.messageId ?? 0 }, 5);
    subscriber.send({ cmd: 'disconnect', reasonCode: 0 }, 5);
    await subscriber.closedPromise;

    // Acknowledged: not sent again.
    [subscriber] = await connect(current, 'ret-subscriber');
    await quiet(subscriber, 'publish');
    subscriber.end();
  });

  test('a retained QoS 2 message released before the kill resumes with PUBREL, not the PUBLISH', async () => {
    let current = await restart();
    const [publisher] = await connect(current, 'ret2-publisher');
    publisher.send(
      {
        cmd: 'publish',
        topic: 'exret2/x',
        payload: Buffer.from('retained twice?'),
        qos: 2,
        messageId: 1,
        dup: false,
        retain: true,
      },
      5,
    );
    await publisher.next('pubrec');
    publisher.send({ cmd: 'pubrel', messageId: 1 }, 5);
    await publisher.next('pubcomp');
    publisher.end();

    let [subscriber] = await connect(current, 'ret2-subscriber');
    subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'exret2/x', qos: 2 }] }, 5);
    await subscriber.next('suback');
    const first = (await subscriber.next('publish', 5000)) as PublishPacket;
    assert.equal(first.qos, 2);
    assert.equal(first.retain, true);
    subscriber.send({ cmd: 'pubrec', messageId: first.messageId ?? 0 }, 5);
    await subscriber.next('pubrel');

    current = await restart();
    [subscriber] = await connect(current, 'ret2-subscriber');
    const pubrel = (await subscriber.next('pubrel', 5000)) as { messageId?: number };
    assert.equal(pubrel.messageId, first.messageId);
    await quiet(subscriber, 'publish');
    subscriber.send({ cmd: 'pubcomp', messageId: first.messageId ?? 0 }, 5);
    subscriber.end();
  });
});
