// A persistent session subscribed to `#` (as Mosquitto users do with clean session 0) gets
// every user message, over MQTT and other protocols, across a kill -9 of the broker, and none
// of the broker's internal records: those live under `$` subjects, which a filter starting
// with a wildcard never matches [MQTT-4.7.2-1], so its stream never overlaps theirs.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { BrokerCore } from '../../src/core/broker.js';
import type { Message } from '../../src/core/api.js';
import type { Packet } from '../../src/protocols/mqtt/codec/packets.js';
import { RawClient, startBrokerProcess, startTestBroker } from './helpers.js';
import type { BrokerProcess, TestBroker } from './helpers.js';

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function persistent(protocolVersion: 4 | 5, clientId: string): IClientOptions {
  return {
    protocolVersion,
    clientId,
    clean: false,
    reconnectPeriod: 0,
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
  };
}

/** Connects and collects every message from the first packet on (queued ones included). */
async function connectCollecting(
  url: string,
  options: IClientOptions,
): Promise<{ client: MqttClient; received: string[]; sessionPresent: boolean }> {
  const client = mqtt.connect(url, options);
  const received: string[] = [];
  client.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
  const connack = await new Promise<mqtt.IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  return { client, received, sessionPresent: connack.sessionPresent };
}

async function quietFor(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

describe('a persistent `#` subscription across kill -9', () => {
  let broker: BrokerProcess | undefined;
  const dataDirs: string[] = [];
  after(async () => {
    await broker?.kill();
    for (const dataDir of dataDirs) await rm(dataDir, { recursive: true, force: true });
  });

  for (const protocolVersion of [4, 5] as const) {
    test(`v${protocolVersion}: clean session false, '#', queued messages survive a restart`, async () => {
      // A data directory each: the other version's retained message would reach `#` too.
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'weir-mqtt-hash-'));
      dataDirs.push(dataDir);
      await broker?.kill();
      broker = await startBrokerProcess(dataDir);
      const options = persistent(protocolVersion, `hash-${protocolVersion}`);
      let subscriber = await connectCollecting(broker.url, options);
      const granted = await subscriber.client.subscribeAsync('#', { qos: 1 });
      assert.deepEqual(
        granted.map((grant) => grant.qos),
        [1],
        'SUBACK grants QoS 1',
      );
      await subscriber.client.endAsync();

      // Retained messages, persistent sessions and open QoS 2 exchanges write the adapter's
      // own records while the subscriber is away: none of them may reach it.
      const publisher = await mqtt.connectAsync(
        broker.url,
        persistent(protocolVersion, `pub-${protocolVersion}`),
      );
      await publisher.publishAsync(`h${protocolVersion}/a`, 'one', { qos: 1 });
      await publisher.publishAsync(`h${protocolVersion}/b/c`, 'two', { qos: 2, retain: true });
      await publisher.publishAsync(`h${protocolVersion}`, 'three', { qos: 1 });
      await publisher.endAsync();

      await broker.kill();
      broker = await startBrokerProcess(dataDir);
      subscriber = await connectCollecting(broker.url, options);
      assert.equal(subscriber.sessionPresent, true, 'session present after the restart');
      await until(() => subscriber.received.length >= 3);
      // And the subscription still takes new messages after the restart.
      const late = await mqtt.connectAsync(broker.url, { protocolVersion, reconnectPeriod: 0 });
      await late.publishAsync(`h${protocolVersion}/late`, 'four', { qos: 1 });
      await late.endAsync();
      await until(() => subscriber.received.length >= 4);
      await quietFor(300);
      assert.deepEqual(subscriber.received, [
        `h${protocolVersion}/a one`,
        `h${protocolVersion}/b/c two`,
        `h${protocolVersion} three`,
        `h${protocolVersion}/late four`,
      ]);
      await subscriber.client.endAsync();
    });
  }
});

describe("a persistent `#` subscription beside the broker's internal subjects", () => {
  let broker: TestBroker & { core: BrokerCore };
  before(async () => {
    broker = await startTestBroker();
  });
  after(() => broker.close());

  test('native publishes arrive; request-reply, temporary queues and MQTT state do not, in either order', async () => {
    const native = broker.core.openSession();
    // A temporary queue made before the `#` subscription must not stand in its way...
    const before = await native.createTemporaryQueue();
    const subscriber = await connectCollecting(broker.url, persistent(5, 'hash-native'));
    const granted = await subscriber.client.subscribeAsync('#', { qos: 1 });
    assert.deepEqual(
      granted.map((grant) => grant.qos),
      [1],
      'SUBACK grants QoS 1',
    );
    // ...nor the `#` subscription in the way of one made after it.
    const afterwards = await native.createTemporaryQueue();

    // A native `>` live subscriber sees what the `#` subscriber sees.
    const nativeSeen: string[] = [];
    const wide = native.subscribeLive('>', {
      onMessage: (message: Message) => nativeSeen.push(message.subject),
    });

    const responder = broker.core.openSession();
    const service = responder.subscribeLive('svc.echo', {
      onMessage: (message: Message) => {
        if (message.replyTo !== undefined) responder.publish({ subject: message.replyTo, body: 'pong' });
      },
    });
    const reply = await native.request('svc.echo', 'ping', { timeoutMs: 2000 });
    assert.equal(reply.body.toString(), 'pong');
    await responder.publishConfirmed({ subject: before.subject, body: 'to the first temporary queue' });
    await responder.publishConfirmed({ subject: afterwards.subject, body: 'to the second temporary queue' });
    await native.publishConfirmed({ subject: 'native.orders', body: 'order' });
    const retainer = await mqtt.connectAsync(broker.url, persistent(5, 'hash-retainer'));
    await retainer.publishAsync('retained/x', 'kept', { qos: 2, retain: true });
    await retainer.endAsync();

    await until(() => subscriber.received.length >= 3);
    await quietFor(300);
    assert.deepEqual(subscriber.received, ['svc/echo ping', 'native/orders order', 'retained/x kept']);
    assert.deepEqual(nativeSeen, ['svc.echo', 'native.orders', 'retained.x']);

    service.close();
    wide.close();
    await responder.close();
    await native.close();
    await subscriber.client.endAsync();
  });

  test("v3.1.1 '+/#' beside a temporary queue: user messages only", async () => {
    const native = broker.core.openSession();
    const temporary = await native.createTemporaryQueue();
    const subscriber = await connectCollecting(broker.url, persistent(4, 'plus-hash'));
    const granted = await subscriber.client.subscribeAsync('+/#', { qos: 1 });
    assert.deepEqual(
      granted.map((grant) => grant.qos),
      [1],
    );
    await native.publishConfirmed({ subject: temporary.subject, body: 'to the temporary queue' });
    await native.publishConfirmed({ subject: 'plus.native', body: 'native' });
    const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    await publisher.publishAsync('plus', 'top level', { qos: 1 });
    await publisher.endAsync();
    // '+/#' matches the top level too (a `#` filter matches its parent level [MQTT-4.7.1-2]);
    // the retained message of the test before arrives at subscribe.
    await until(() => subscriber.received.length >= 3);
    await quietFor(300);
    assert.deepEqual(subscriber.received, ['retained/x kept', 'plus/native native', 'plus top level']);
    await native.close();
    await subscriber.client.endAsync();
  });
  test('the broker-only namespaces are refused by name and by wildcard; an exact inbox is allowed', async () => {
    for (const protocolVersion of [4, 5] as const) {
      const client = await RawClient.connect(broker.port, protocolVersion);
      const connect = {
        cmd: 'connect',
        clientId: `ns-${protocolVersion}`,
        protocolVersion,
        clean: true,
        keepalive: 0,
      };
      client.send(connect as Packet, protocolVersion);
      await client.next('connack');
      const filters = ['$MQTT/#', '$TMPQ/#', '$TMPQ/abc', '$INBOX/#', '$INBOX/+/x', '$INBOX/mine'];
      client.send(
        {
          cmd: 'subscribe',
          messageId: 1,
          subscriptions: filters.map((topic) => ({ topic, qos: 1 as const })),
        },
        protocolVersion,
      );
      const suback = (await client.next('suback')) as { granted: number[] };
      const refused = protocolVersion === 5 ? 0x87 : 0x80;
      assert.deepEqual(
        suback.granted,
        [refused, refused, refused, refused, refused, 1],
        `v${protocolVersion}`,
      );
      client.end();
    }
  });
});
