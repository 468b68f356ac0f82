// An inbound QoS 2 PUBLISH of a persistent session whose hold is still being written when the
// client reconnects (or another connection takes the session over) and re-sends it with DUP:
// the re-send must wait for the first hold, not publish the message a second time
// (exactly once, MQTT 5.0 §4.3.3). The exchange log is gated so that the hold is provably in
// flight when the re-send arrives.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Packet, PublishPacket } from '../../src/protocols/mqtt/codec/packets.js';
import { encodePacket } from '../../src/protocols/mqtt/codec/encoder.js';
import { createCoreState } from '../../src/protocols/mqtt/core-state.js';
import type { DurableState } from '../../src/protocols/mqtt/durable-state.js';
import { parseMqttOptions } from '../../src/protocols/mqtt/options.js';
import { openCore, RawClient, startBroker } from './helpers.js';

/** A core-backed durable state whose holds (or consumer creations) wait until `open()` is called. */
function gatedState(
  inner: DurableState,
  gated: 'holdExchange' | 'consumersFor' = 'holdExchange',
): { state: DurableState; held: () => number; open: () => void } {
  let waiting: (() => void)[] | undefined = [];
  let holds = 0;
  const state: DurableState = {
    get onStreamsChanged() {
      return inner.onStreamsChanged;
    },
    set onStreamsChanged(callback) {
      inner.onStreamsChanged = callback;
    },
    load: () => inner.load(),
    async holdExchange(record, message) {
      if (gated === 'holdExchange') {
        holds++;
        if (waiting !== undefined) await new Promise<void>((resolve) => waiting?.push(resolve));
      }
      return inner.holdExchange(record, message);
    },
    endExchange: (handle) => inner.endExchange(handle),
    retain: (input) => inner.retain(input),
    saveSession: (record) => inner.saveSession(record),
    deleteSession: (clientId) => inner.deleteSession(clientId),
    async consumersFor(clientId, options) {
      if (gated === 'consumersFor') {
        holds++;
        if (waiting !== undefined) await new Promise<void>((resolve) => waiting?.push(resolve));
      }
      return inner.consumersFor(clientId, options);
    },
    findConsumers: (clientId, options) => inner.findConsumers(clientId, options),
    deleteConsumers: (consumers) => inner.deleteConsumers(consumers),
    close: () => inner.close(),
  };
  return {
    state,
    held: () => holds,
    open() {
      const resolvers = waiting ?? [];
      waiting = undefined;
      for (const resolve of resolvers) resolve();
    },
  };
}

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

async function connect(port: number, clientId: string): Promise<RawClient> {
  const client = await RawClient.connect(port, 5);
  client.send(persistentConnect(clientId), 5);
  const connack = (await client.next('connack', 5000)) as { reasonCode?: number };
  assert.equal(connack.reasonCode, 0);
  return client;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('inbound QoS 2 re-sent while its hold is being written', () => {
  for (const captured of [false, true]) {
    test(`${captured ? 'a captured' : 'an uncaptured'} subject is published once, after a session takeover`, async () => {
      const testCore = await openCore();
      const gate = gatedState(createCoreState(testCore.core, parseMqttOptions({})));
      const broker = await startBroker(testCore.core, { durable: gate.state });
      const clients: RawClient[] = [];
      try {
        if (captured) await testCore.core.addStream({ name: 'held', subjects: ['held.>'] });
        const subscriber = await RawClient.connect(broker.port, 5);
        clients.push(subscriber);
        subscriber.send(
          { cmd: 'connect', clientId: 'watcher', protocolVersion: 5, clean: true, keepalive: 0 },
          5,
        );
        await subscriber.next('connack');
        subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'held/x', qos: 0 }] }, 5);
        await subscriber.next('suback');

        const publish: PublishPacket = {
          cmd: 'publish',
          topic: 'held/x',
          payload: Buffer.from('once'),
          qos: 2,
          dup: false,
          retain: false,
          messageId: 7,
        };
        const first = await connect(broker.port, 'producer');
        clients.push(first);
        const holdsBefore = gate.held();
        first.send(publish, 5);
        await until(() => gate.held() > holdsBefore, 'the first hold');

        // The client lost the connection before PUBREC: it reconnects and re-sends with DUP.
        const second = await connect(broker.port, 'producer');
        clients.push(second);
        second.send({ ...publish, dup: true }, 5);
        await new Promise((resolve) => setTimeout(resolve, 50));
        gate.open();
        const pubrec = (await second.next('pubrec', 5000)) as { messageId?: number; reasonCode?: number };
        assert.equal(pubrec.messageId, 7);
        assert.equal(pubrec.reasonCode ?? 0, 0);
        second.send({ cmd: 'pubrel', messageId: 7 }, 5);
        await second.next('pubcomp', 5000);

        await new Promise((resolve) => setTimeout(resolve, 200));
        const received = subscriber.packets.filter((packet) => packet.cmd === 'publish');
        assert.equal(received.length, 1, 'the message is published exactly once');
      } finally {
        gate.open();
        for (const client of clients) client.socket.destroy();
        await broker.close();
        await testCore.close();
      }
    });
  }
});

describe('inbound QoS 2 holds committed together', () => {
  test('a full stream does not fail the holds it shares a commit with, and a committed message is not refused', async () => {
    const testCore = await openCore();
    const broker = await startBroker(testCore.core);
    const clients: RawClient[] = [];
    const native = testCore.core.openSession();
    try {
      await testCore.core.addStream({ name: 'small', subjects: ['small.>'], maxMessages: 1, discard: 'new' });
      await testCore.core.addStream({ name: 'roomy', subjects: ['roomy.>'] });
      await native.publishConfirmed({ subject: 'small.first', body: 'fills it' });
      const client = await connect(broker.port, 'batched');
      clients.push(client);
      const publish = (topic: string, messageId: number): Buffer =>
        encodePacket(
          {
            cmd: 'publish',
            topic,
            payload: Buffer.from(topic),
            qos: 2,
            dup: false,
            retain: false,
            messageId,
          },
          5,
        );
      // One write: both PUBLISH packets are read in one turn, so their holds share a commit.
      client.write(Buffer.concat([publish('small/x', 1), publish('roomy/x', 2)]));
      const first = (await client.next('pubrec', 5000)) as { messageId?: number; reasonCode?: number };
      const second = (await client.next('pubrec', 5000)) as { messageId?: number; reasonCode?: number };
      assert.deepEqual([first.messageId, second.messageId], [1, 2]);
      assert.equal(second.reasonCode ?? 0, 0, 'roomy/x is stored: its PUBREC is a success');
      await until(() => testCore.core.streamInfo('roomy').messages === 1, 'roomy/x in its stream');
      // small/x is in a committed transaction: the core appends it once the stream has room,
      // so refusing it would make the client send it again and get it delivered twice.
      assert.equal(first.reasonCode ?? 0, 0, 'small/x is committed: its PUBREC is a success');
      for (const packetId of [1, 2]) {
        client.send({ cmd: 'pubrel', messageId: packetId }, 5);
        await client.next('pubcomp', 5000);
      }
      // Both holds ended with PUBREL, the one whose offset was learnt late included.
      await until(() => testCore.core.streamInfo('mqtt-exchanges').messages === 0, 'the hold records acked');
    } finally {
      for (const client of clients) client.socket.destroy();
      await native.close();
      await broker.close();
      await testCore.close();
    }
  });
});

describe('a persistent subscription whose connection closes while its consumer is made', () => {
  test('its consumer belongs to the session and goes when a clean start ends it', async () => {
    const testCore = await openCore();
    const gate = gatedState(createCoreState(testCore.core, parseMqttOptions({})), 'consumersFor');
    const broker = await startBroker(testCore.core, { durable: gate.state });
    const clients: RawClient[] = [];
    const subscriptionConsumers = (): string[] =>
      testCore.core
        .listStreams()
        .filter((info) => info.config.name.startsWith('topic-'))
        .flatMap((info) =>
          testCore.core.listConsumers(info.config.name).map((consumer) => consumer.config.name),
        );
    try {
      const first = await connect(broker.port, 'leaver');
      clients.push(first);
      first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'orphan/x', qos: 1 }] }, 5);
      await until(() => gate.held() > 0, 'the consumer being made');
      first.socket.destroy();
      await first.closedPromise;
      await new Promise((resolve) => setTimeout(resolve, 50));
      gate.open();
      await until(() => subscriptionConsumers().length > 0, 'the consumer made');
      await new Promise((resolve) => setTimeout(resolve, 100));

      // Clean start discards the session and everything it owns [MQTT-3.1.2-4].
      const second = await RawClient.connect(broker.port, 5);
      clients.push(second);
      second.send({ cmd: 'connect', clientId: 'leaver', protocolVersion: 5, clean: true, keepalive: 0 }, 5);
      await second.next('connack', 5000);
      await until(() => subscriptionConsumers().length === 0, 'no consumer left by the ended session');
    } finally {
      gate.open();
      for (const client of clients) client.socket.destroy();
      await broker.close();
      await testCore.close();
    }
  });
});

/** A core-backed durable state that loses every exchange end, as a kill -9 before the disk would. */
function losingEnds(inner: DurableState): DurableState {
  return {
    get onStreamsChanged() {
      return inner.onStreamsChanged;
    },
    set onStreamsChanged(callback) {
      inner.onStreamsChanged = callback;
    },
    load: () => inner.load(),
    holdExchange: (record, message) => inner.holdExchange(record, message),
    endExchange: () => undefined,
    retain: (input) => inner.retain(input),
    saveSession: (record) => inner.saveSession(record),
    deleteSession: (clientId) => inner.deleteSession(clientId),
    consumersFor: (clientId, options) => inner.consumersFor(clientId, options),
    findConsumers: (clientId, options) => inner.findConsumers(clientId, options),
    deleteConsumers: (consumers) => inner.deleteConsumers(consumers),
    close: () => inner.close(),
  };
}

describe('a restored inbound QoS 2 hold whose end was lost', () => {
  test('a DUP re-send of a new message with the same packet id is published, not taken for the old one', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'weir-mqtt-holds-'));
    const clients: RawClient[] = [];
    const publish = (payload: string, dup: boolean): PublishPacket => ({
      cmd: 'publish',
      topic: 'held/x',
      payload: Buffer.from(payload),
      qos: 2,
      dup,
      retain: false,
      messageId: 7,
    });
    try {
      const firstCore = await openCore(dataDir);
      const firstBroker = await startBroker(firstCore.core, {
        durable: losingEnds(createCoreState(firstCore.core, parseMqttOptions({}))),
      });
      try {
        await firstCore.core.addStream({ name: 'held', subjects: ['held.>'] });
        const producer = await connect(firstBroker.port, 'producer');
        clients.push(producer);
        producer.send(publish('old', false), 5);
        await producer.next('pubrec', 5000);
        producer.send({ cmd: 'pubrel', messageId: 7 }, 5);
        await producer.next('pubcomp', 5000);
        // The client reuses packet id 7 for a new message; the broker stops before its hold is
        // written, and the end of the old hold never reached the disk.
        producer.socket.destroy();
        await producer.closedPromise;
      } finally {
        await firstBroker.close();
        await firstCore.close();
      }

      const secondCore = await openCore(dataDir);
      const secondBroker = await startBroker(secondCore.core);
      try {
        const watcher = await RawClient.connect(secondBroker.port, 5);
        clients.push(watcher);
        watcher.send(
          { cmd: 'connect', clientId: 'watcher', protocolVersion: 5, clean: true, keepalive: 0 },
          5,
        );
        await watcher.next('connack');
        watcher.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'held/x', qos: 0 }] }, 5);
        await watcher.next('suback');

        const producer = await connect(secondBroker.port, 'producer');
        clients.push(producer);
        producer.send(publish('new', true), 5);
        const pubrec = (await producer.next('pubrec', 5000)) as { reasonCode?: number };
        assert.equal(pubrec.reasonCode ?? 0, 0);
        producer.send({ cmd: 'pubrel', messageId: 7 }, 5);
        await producer.next('pubcomp', 5000);
        const received = (await watcher.next('publish', 5000)) as PublishPacket;
        assert.equal(Buffer.from(received.payload).toString(), 'new', 'the new message is published');

        // A re-send of the message now held is still recognised: not published again.
        producer.send(publish('newer', false), 5);
        await producer.next('pubrec', 5000);
        producer.send(publish('newer', true), 5);
        await producer.next('pubrec', 5000);
        producer.send({ cmd: 'pubrel', messageId: 7 }, 5);
        await producer.next('pubcomp', 5000);
        await new Promise((resolve) => setTimeout(resolve, 100));
        const payloads = watcher.packets
          .filter((packet): packet is PublishPacket => packet.cmd === 'publish')
          .map((packet) => Buffer.from(packet.payload).toString());
        assert.deepEqual(payloads, ['newer'], 'once, after the first one read above');
      } finally {
        for (const client of clients) client.socket.destroy();
        await secondBroker.close();
        await secondCore.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
