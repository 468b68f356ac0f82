// Persistent sessions: subscriptions and queued QoS 1/2 messages outlive the connection,
// the broker's restart in process, and the kill of a real broker process; unacknowledged
// deliveries come back with DUP set; a session expires; cross-protocol delivery.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { ManualClock } from '../../src/common/clock.js';
import type { BrokerCore } from '../../src/core/broker.js';
import type { Packet } from '../../src/protocols/mqtt/codec/packets.js';
import { RawClient, openCore, startBroker, startTestBroker } from './helpers.js';
import type { TestBroker } from './helpers.js';

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function collect(client: MqttClient): { topic: string; payload: string; packet: IPublishPacket }[] {
  const received: { topic: string; payload: string; packet: IPublishPacket }[] = [];
  client.on('message', (topic, payload, packet) =>
    received.push({ topic, payload: payload.toString(), packet }),
  );
  return received;
}

describe('persistent sessions', () => {
  let broker: TestBroker & { core: BrokerCore };
  before(async () => {
    broker = await startTestBroker();
  });
  after(() => broker.close());

  for (const protocolVersion of [4, 5] as const) {
    test(`v${protocolVersion}: queued QoS 1 messages wait for the client and arrive in order`, async () => {
      const clientId = `persistent-${protocolVersion}`;
      const options: mqtt.IClientOptions = {
        protocolVersion,
        clientId,
        clean: false,
        reconnectPeriod: 0,
        ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
      };
      const first = await mqtt.connectAsync(broker.url, options);
      await first.subscribeAsync(`ps${protocolVersion}/#`, { qos: 1 });
      await first.endAsync();
      const publisher = await mqtt.connectAsync(broker.url, { protocolVersion, reconnectPeriod: 0 });
      for (let index = 0; index < 5; index++) {
        await publisher.publishAsync(`ps${protocolVersion}/${index}`, `m${index}`, { qos: 1 });
      }
      await publisher.endAsync();
      const second = mqtt.connect(broker.url, options);
      const received = collect(second);
      const connack = await new Promise<mqtt.IConnackPacket>((resolve) => second.once('connect', resolve));
      assert.equal(connack.sessionPresent, true);
      await until(() => received.length === 5);
      assert.deepEqual(
        received.map((message) => message.payload),
        ['m0', 'm1', 'm2', 'm3', 'm4'],
      );
      await second.endAsync();
      // Clean start ends the session: nothing queued any more.
      const clean = await mqtt.connectAsync(broker.url, { ...options, clean: true });
      await clean.endAsync();
    });
  }

  test('an unacknowledged delivery comes back with DUP set and its packet id [MQTT-4.4.0-1]', async () => {
    const connect: Packet = {
      cmd: 'connect',
      clientId: 'dup-client',
      protocolVersion: 4,
      clean: false,
      keepalive: 0,
    };
    const first = await RawClient.connect(broker.port);
    first.send(connect);
    await first.next('connack');
    first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'dup/x', qos: 1 }] });
    await first.next('suback');
    broker.server.registry.systemSession().publish({ subject: 'dup.x', body: 'payload' });
    const delivered = (await first.next('publish')) as IPublishPacket;
    assert.equal(delivered.dup, false);
    first.end(); // no PUBACK
    await first.closedPromise;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await RawClient.connect(broker.port);
    second.send(connect);
    const connack = (await second.next('connack')) as { sessionPresent: boolean };
    assert.equal(connack.sessionPresent, true);
    const again = (await second.next('publish')) as IPublishPacket;
    assert.equal(again.dup, true);
    assert.equal(again.messageId, delivered.messageId);
    assert.equal(again.payload.toString(), 'payload');
    second.send({ cmd: 'puback', messageId: again.messageId ?? 0 });
    second.send({ cmd: 'disconnect' });
  });

  test('outbound QoS 2 from a durable consumer: PUBREL is sent again after a reconnect', async () => {
    const connect: Packet = {
      cmd: 'connect',
      clientId: 'qos2-client',
      protocolVersion: 5,
      clean: false,
      keepalive: 0,
      properties: { sessionExpiryInterval: 600 },
    };
    const first = await RawClient.connect(broker.port, 5);
    first.send(connect, 5);
    await first.next('connack');
    first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q2out/x', qos: 2 }] }, 5);
    await first.next('suback');
    const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    await publisher.publishAsync('q2out/x', 'exactly once', { qos: 2 });
    const delivered = (await first.next('publish')) as IPublishPacket;
    assert.equal(delivered.qos, 2);
    first.send({ cmd: 'pubrec', messageId: delivered.messageId ?? 0 }, 5);
    const pubrel = (await first.next('pubrel')) as { messageId?: number };
    assert.equal(pubrel.messageId, delivered.messageId);
    first.end(); // no PUBCOMP
    await first.closedPromise;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await RawClient.connect(broker.port, 5);
    second.send(connect, 5);
    assert.equal(((await second.next('connack')) as { sessionPresent: boolean }).sessionPresent, true);
    const again = (await second.next('pubrel')) as { messageId?: number };
    assert.equal(again.messageId, delivered.messageId);
    second.send({ cmd: 'pubcomp', messageId: again.messageId ?? 0 }, 5);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(
      second.packets.filter((packet) => packet.cmd === 'publish').length,
      0,
      'the message is not sent again',
    );
    second.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } }, 5);
    await publisher.endAsync();
  });

  test('v5 UNSUBACK says which subscriptions existed; clean start ends the session', async () => {
    const client = await RawClient.connect(broker.port, 5);
    client.send(
      {
        cmd: 'connect',
        clientId: 'unsub',
        protocolVersion: 5,
        clean: false,
        keepalive: 0,
        properties: { sessionExpiryInterval: 60 },
      },
      5,
    );
    assert.equal(((await client.next('connack')) as { sessionPresent: boolean }).sessionPresent, false);
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'u/a', qos: 1 }] }, 5);
    await client.next('suback');
    client.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['u/a', 'u/none'] }, 5);
    const unsuback = (await client.next('unsuback')) as { granted?: number[]; messageId?: number };
    assert.equal(unsuback.messageId, 2);
    assert.deepEqual(unsuback.granted, [0x00, 0x11]);
    client.end();
    await client.closedPromise;
    const again = await RawClient.connect(broker.port, 5);
    again.send({ cmd: 'connect', clientId: 'unsub', protocolVersion: 5, clean: true, keepalive: 0 }, 5);
    assert.equal(((await again.next('connack')) as { sessionPresent: boolean }).sessionPresent, false);
    again.send({ cmd: 'disconnect', reasonCode: 0 }, 5);
  });

  test("No Local holds for a persistent session's stored QoS 2 message [MQTT-3.8.3-3]", async () => {
    // A persistent QoS 1 subscription makes a stream capture the topic, so the QoS 2 message
    // is stored with its hold in one transaction (exchange-log.ts) and reaches live
    // subscribers from the exchange log's core session, not the publisher's.
    const store = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: 'nl-store',
      clean: false,
      properties: { sessionExpiryInterval: 60 },
      reconnectPeriod: 0,
    });
    await store.subscribeAsync('nlq2/#', { qos: 1 });
    const publisher = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: 'nl-publisher',
      clean: false,
      properties: { sessionExpiryInterval: 60 },
      reconnectPeriod: 0,
    });
    const own = collect(publisher);
    await publisher.subscribeAsync('nlq2/x', { qos: 0, nl: true });
    const other = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    const others = collect(other);
    await other.subscribeAsync('nlq2/x', { qos: 0 });
    await publisher.publishAsync('nlq2/x', 'not to myself', { qos: 2 });
    await until(() => others.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(
      own.map((message) => message.payload),
      [],
    );
    assert.equal(others[0]?.payload, 'not to myself');
    await other.endAsync();
    await publisher.endAsync();
    await store.endAsync();
  });

  test('a message published natively reaches an MQTT subscriber, with headers as user properties', async () => {
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    const received = collect(client);
    await client.subscribeAsync('native/+', { qos: 1 });
    const native = broker.core.openSession();
    native.publish({
      subject: 'native.orders',
      body: 'hello',
      headers: { tenant: 'acme' },
      contentType: 'text/plain',
    });
    await until(() => received.length === 1);
    assert.equal(received[0]?.topic, 'native/orders');
    assert.deepEqual({ ...received[0]?.packet.properties?.userProperties }, { tenant: 'acme' });
    assert.equal(received[0]?.packet.properties?.contentType, 'text/plain');
    await native.close();
    await client.endAsync();
  });

  test('overlapping persistent filters share one topic stream, widened to the wider filter', async () => {
    const session = (clientId: string): Promise<MqttClient> =>
      mqtt.connectAsync(broker.url, {
        protocolVersion: 5,
        clientId,
        clean: false,
        properties: { sessionExpiryInterval: 60 },
        reconnectPeriod: 0,
      });
    const narrow = await session('widen-narrow');
    const wide = await session('widen-wide');
    await narrow.subscribeAsync('widen/a/b', { qos: 1 });
    await wide.subscribeAsync('widen/#', { qos: 1 });
    const streams = broker.core
      .listStreams()
      .filter((info) => info.config.subjects.some((subject) => subject.startsWith('widen')));
    assert.deepEqual(
      streams.map((info) => [
        info.config.name.startsWith('topic-'),
        info.config.subjects.filter((subject) => subject.startsWith('widen')),
      ]),
      [[true, ['widen', 'widen.>']]],
    );
    const receivedNarrow = collect(narrow);
    const receivedWide = collect(wide);
    const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    await publisher.publishAsync('widen/a/b', 'both', { qos: 1 });
    await publisher.publishAsync('widen/c', 'wide only', { qos: 1 });
    await until(() => receivedNarrow.length === 1 && receivedWide.length === 2);
    assert.equal(receivedNarrow[0]?.payload, 'both');
    await Promise.all([narrow.endAsync(), wide.endAsync(), publisher.endAsync()]);
  });

  for (const protocolVersion of [4, 5] as const) {
    test(`v${protocolVersion}: one session's filters that share a subject filter each get their messages`, async () => {
      // `pair/+/#` and `pair/+` both map to the subject filter `pair.*` (the first with its
      // parent level), so their consumers must still be told apart by the MQTT filter.
      const client = await mqtt.connectAsync(broker.url, {
        protocolVersion,
        clientId: `pair-${protocolVersion}`,
        clean: false,
        reconnectPeriod: 0,
        ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 60 } } : {}),
      });
      await client.subscribeAsync(`pair${protocolVersion}/+/#`, { qos: 1 });
      await client.subscribeAsync(`pair${protocolVersion}/+`, { qos: 1 });
      const received = collect(client);
      const publisher = await mqtt.connectAsync(broker.url, { protocolVersion, reconnectPeriod: 0 });
      await publisher.publishAsync(`pair${protocolVersion}/a/b`, 'deep', { qos: 1 });
      await publisher.publishAsync(`pair${protocolVersion}/a`, 'shallow', { qos: 1 });
      // `deep` matches one filter; `shallow` matches both, so it may arrive once per filter.
      await until(() => received.some((message) => message.payload === 'shallow'));
      await until(() => received.some((message) => message.payload === 'deep'));
      await client.unsubscribeAsync(`pair${protocolVersion}/+`);
      await publisher.publishAsync(`pair${protocolVersion}/c`, 'after', { qos: 1 });
      await until(() => received.some((message) => message.payload === 'after'));
      await Promise.all([client.endAsync(), publisher.endAsync()]);
    });
  }

  test('a persistent subscription that partly overlaps a user stream is refused with a reason', async () => {
    await broker.core.addStream({ name: 'partial', subjects: ['partial.eu.*'] });
    const client = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: 'overlapper',
      clean: false,
      properties: { sessionExpiryInterval: 60 },
      reconnectPeriod: 0,
    });
    await assert.rejects(client.subscribeAsync('partial/#', { qos: 1 }), /Implementation specific error/);
    await client.endAsync();
  });

  test('a shared persistent subscription is one consumer the members compete on', async () => {
    const member = (clientId: string): Promise<MqttClient> =>
      mqtt.connectAsync(broker.url, {
        protocolVersion: 5,
        clientId,
        clean: false,
        properties: { sessionExpiryInterval: 60 },
        reconnectPeriod: 0,
      });
    const one = await member('share-one');
    const two = await member('share-two');
    const receivedOne = collect(one);
    const receivedTwo = collect(two);
    await one.subscribeAsync('$share/g/work/+', { qos: 1 });
    await two.subscribeAsync('$share/g/work/+', { qos: 1 });
    const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    for (let index = 0; index < 20; index++)
      await publisher.publishAsync(`work/${index}`, String(index), { qos: 1 });
    await until(() => receivedOne.length + receivedTwo.length === 20);
    const all = [...receivedOne, ...receivedTwo]
      .map((message) => Number(message.payload))
      .sort((a, b) => a - b);
    assert.deepEqual(
      all,
      Array.from({ length: 20 }, (_, index) => index),
    );
    assert.ok(receivedOne.length > 0 && receivedTwo.length > 0, 'both members took some');
    await Promise.all([one.endAsync(), two.endAsync(), publisher.endAsync()]);
  });

  test('a message published over MQTT reaches a native consumer of a user stream', async () => {
    await broker.core.addStream({ name: 'telemetry', subjects: ['telemetry.>'] });
    await broker.core.addConsumer('telemetry', { name: 'reader', deliverPolicy: { kind: 'all' } });
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    await client.publishAsync('telemetry/dev1/temp', '21.5', {
      qos: 1,
      properties: { userProperties: { unit: 'C' } },
    });
    const native = broker.core.openSession();
    const [delivery] = await native.fetch('telemetry', 'reader', { batch: 1, expiresMs: 1000 });
    assert.equal(delivery?.message.subject, 'telemetry.dev1.temp');
    assert.equal(delivery?.message.body.toString(), '21.5');
    assert.equal(delivery?.message.headers.unit, 'C');
    // A persistent MQTT subscription inside that stream's subjects is a consumer on it.
    const persistent = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: 'telemetry-reader',
      clean: false,
      properties: { sessionExpiryInterval: 60 },
      reconnectPeriod: 0,
    });
    await persistent.subscribeAsync('telemetry/+/temp', { qos: 1 });
    assert.ok(broker.core.listConsumers('telemetry').length === 2);
    await persistent.endAsync();
    await native.close();
    await client.endAsync();
  });
});

describe('session expiry on a manual clock', () => {
  test('a disconnected session ends after its expiry interval, with its consumers', async () => {
    const clock = new ManualClock(Date.now());
    const testCore = await openCore();
    const broker = await startBroker(testCore.core, { clock });
    try {
      const client = await mqtt.connectAsync(broker.url, {
        protocolVersion: 5,
        clientId: 'expiring',
        clean: false,
        reconnectPeriod: 0,
        properties: { sessionExpiryInterval: 30 },
      });
      await client.subscribeAsync('exp/#', { qos: 1 });
      const queueConsumers = (): number =>
        testCore.core
          .listStreams()
          .filter((info) => info.config.name.startsWith('topic-'))
          .reduce((sum, info) => sum + info.consumers, 0);
      assert.equal(queueConsumers(), 2); // `exp` and `exp.>`
      await client.endAsync();
      await until(() => broker.server.registry.sessions.get('expiring')?.connection === undefined);
      clock.advance(29_000);
      assert.ok(broker.server.registry.sessions.has('expiring'));
      clock.advance(2_000);
      await until(() => queueConsumers() === 0);
      assert.ok(!broker.server.registry.sessions.has('expiring'));
    } finally {
      await broker.close();
      await testCore.close();
    }
  });
});

describe('restored sessions', () => {
  test('a session restored at start that expires takes its consumers with it', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'weir-mqtt-restored-'));
    try {
      let testCore = await openCore(dataDir);
      let broker = await startBroker(testCore.core);
      const client = await mqtt.connectAsync(broker.url, {
        protocolVersion: 5,
        clientId: 'short-lived',
        clean: false,
        reconnectPeriod: 0,
        properties: { sessionExpiryInterval: 60 },
      });
      await client.subscribeAsync('restored/x', { qos: 1 });
      await client.endAsync();
      await broker.close();
      await testCore.close();

      const clock = new ManualClock(Date.now());
      testCore = await openCore(dataDir);
      broker = await startBroker(testCore.core, { clock });
      const mqttConsumers = (): number =>
        testCore.core
          .listStreams()
          .reduce(
            (sum, info) =>
              sum +
              testCore.core
                .listConsumers(info.config.name)
                .filter((consumer) => consumer.config.name.startsWith('mqtt-')).length,
            0,
          );
      assert.equal(mqttConsumers(), 1);
      clock.advance(61_000);
      await until(() => mqttConsumers() === 0);
      await broker.close();
      await testCore.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('restarts', () => {
  test('retained messages and persistent sessions survive closing and reopening the broker', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'weir-mqtt-restart-'));
    try {
      let testCore = await openCore(dataDir);
      let broker = await startBroker(testCore.core);
      const subscriber = await mqtt.connectAsync(broker.url, {
        clientId: 'keeper',
        clean: false,
        reconnectPeriod: 0,
      });
      await subscriber.subscribeAsync('keep/#', { qos: 1 });
      await subscriber.endAsync();
      const publisher = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      await publisher.publishAsync('keep/retained', 'R', { qos: 1, retain: true });
      await publisher.publishAsync('keep/queued', 'Q', { qos: 1 });
      await publisher.endAsync();
      await broker.close();
      await testCore.close();

      testCore = await openCore(dataDir);
      broker = await startBroker(testCore.core);
      const back = mqtt.connect(broker.url, { clientId: 'keeper', clean: false, reconnectPeriod: 0 });
      const received = collect(back);
      const connack = await new Promise<mqtt.IConnackPacket>((resolve) => back.once('connect', resolve));
      assert.equal(connack.sessionPresent, true);
      await until(() => received.length === 2);
      assert.deepEqual(received.map((message) => message.payload).sort(), ['Q', 'R']);
      const fresh = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      const freshReceived = collect(fresh);
      await fresh.subscribeAsync('keep/+', { qos: 0 });
      await until(() => freshReceived.length === 1);
      assert.equal(freshReceived[0]?.payload, 'R');
      assert.equal(freshReceived[0]?.packet.retain, true);
      await back.endAsync();
      await fresh.endAsync();
      await broker.close();
      await testCore.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('a killed broker process keeps confirmed QoS 1 messages of a persistent session', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'weir-mqtt-kill-'));
    const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'mqtt-broker.js');
    const start = async (): Promise<{ child: ChildProcess; url: string }> => {
      const child = spawn(process.execPath, [fixture, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
      const port = await new Promise<number>((resolve, reject) => {
        let output = '';
        child.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /PORT (\d+)/.exec(output);
          if (match) resolve(Number(match[1]));
        });
        child.once('exit', (code) => reject(new Error(`broker exited with ${String(code)}`)));
      });
      return { child, url: `mqtt://127.0.0.1:${port}` };
    };
    const kill = async (child: ChildProcess): Promise<void> => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    };
    try {
      let broker = await start();
      const subscriber = await mqtt.connectAsync(broker.url, {
        protocolVersion: 5,
        clientId: 'survivor',
        clean: false,
        reconnectPeriod: 0,
        properties: { sessionExpiryInterval: 3600 },
      });
      await subscriber.subscribeAsync('crash/#', { qos: 1 });
      await subscriber.endAsync();
      const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
      for (let index = 0; index < 20; index++)
        await publisher.publishAsync(`crash/${index}`, String(index), { qos: 1 });
      await publisher.publishAsync('crash/retained', 'kept', { qos: 1, retain: true });
      publisher.end(true);
      await kill(broker.child);

      broker = await start();
      const back = mqtt.connect(broker.url, {
        protocolVersion: 5,
        clientId: 'survivor',
        clean: false,
        reconnectPeriod: 0,
        properties: { sessionExpiryInterval: 3600 },
      });
      const received = collect(back);
      const connack = await new Promise<mqtt.IConnackPacket>((resolve) => back.once('connect', resolve));
      assert.equal(connack.sessionPresent, true);
      await until(() => received.length === 21, 5000);
      assert.deepEqual(
        received.filter((message) => message.topic !== 'crash/retained').map((message) => message.payload),
        Array.from({ length: 20 }, (_, index) => String(index)),
      );
      back.end(true);
      await kill(broker.child);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('will delay on a manual clock', () => {
  test('a v5 will waits for its delay, and a client back in time cancels it', async () => {
    const clock = new ManualClock(Date.now());
    const testCore = await openCore();
    const broker = await startBroker(testCore.core, { clock });
    try {
      const watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
      const received = collect(watcher);
      await watcher.subscribeAsync('wd/#', { qos: 0 });
      const options: mqtt.IClientOptions = {
        protocolVersion: 5,
        clientId: 'delayed-will',
        clean: false,
        reconnectPeriod: 0,
        properties: { sessionExpiryInterval: 600 },
        will: {
          topic: 'wd/gone',
          payload: Buffer.from('late'),
          qos: 0,
          retain: false,
          properties: { willDelayInterval: 10 },
        },
      };
      const leaving = await mqtt.connectAsync(broker.url, options);
      leaving.stream.destroy();
      await until(() => broker.server.registry.sessions.get('delayed-will')?.connection === undefined);
      clock.advance(9_000);
      await new Promise((resolve) => setTimeout(resolve, 30));
      assert.equal(received.length, 0, 'not before the delay');
      // Back before the delay: no will.
      const back = await mqtt.connectAsync(broker.url, options);
      back.stream.destroy();
      await until(() => broker.server.registry.sessions.get('delayed-will')?.connection === undefined);
      clock.advance(9_000);
      await new Promise((resolve) => setTimeout(resolve, 30));
      assert.equal(received.length, 0, 'the reconnect restarted the wait');
      clock.advance(2_000);
      await until(() => received.length === 1);
      assert.equal(received[0]?.payload, 'late');
      watcher.end(true);
    } finally {
      await broker.close();
      await testCore.close();
    }
  });
});

describe('$SYS statistics', () => {
  test('published like Mosquitto, retained for new subscribers', async () => {
    const broker = await startTestBroker({ mqtt: { sysIntervalMs: 100 } });
    try {
      const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      const received = collect(client);
      await client.subscribeAsync('$SYS/broker/clients/connected');
      await client.subscribeAsync('$SYS/broker/uptime');
      await until(() =>
        received.some(
          (message) => message.topic === '$SYS/broker/clients/connected' && message.payload === '1',
        ),
      );
      assert.ok(
        received.some(
          (message) => message.topic === '$SYS/broker/uptime' && /seconds$/.test(message.payload),
        ),
      );
      client.end(true);
    } finally {
      await broker.close();
    }
  });
});
