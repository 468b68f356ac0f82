// A `$share` group of persistent sessions is one durable consumer: it stays while any member
// session (connected or not) still has the subscription, and is deleted with the last one,
// whether that one unsubscribes or its session ends or expires (MQTT 5.0 §4.8.2).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { ManualClock } from '../../src/common/clock.js';
import type { BrokerCore } from '../../src/core/broker.js';
import { startTestBroker } from './helpers.js';
import type { TestBroker } from './helpers.js';

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function member(broker: TestBroker, clientId: string, sessionExpiryInterval: number): Promise<MqttClient> {
  return mqtt.connectAsync(broker.url, {
    protocolVersion: 5,
    clientId,
    clean: false,
    properties: { sessionExpiryInterval },
    reconnectPeriod: 0,
  });
}

/** Consumers of `$share` groups (`mqtt-share-…`) across all streams. */
function shareConsumers(core: BrokerCore): string[] {
  return core
    .listStreams()
    .flatMap((stream) => core.listConsumers(stream.config.name))
    .map((consumer) => consumer.config.name)
    .filter((name) => name.startsWith('mqtt-share-'));
}

describe('$share groups of persistent sessions', () => {
  test('the group consumer stays while a member (even offline) is left, and goes with the last to unsubscribe', async () => {
    const broker = await startTestBroker();
    try {
      const one = await member(broker, 'group-one', 600);
      const two = await member(broker, 'group-two', 600);
      await one.subscribeAsync('$share/g/jobs/+', { qos: 1 });
      await two.subscribeAsync('$share/g/jobs/+', { qos: 1 });
      assert.equal(shareConsumers(broker.core).length, 1);
      await two.endAsync(); // offline, still a member
      await until(() => broker.server.registry.sessions.get('group-two')?.connection === undefined);
      await one.unsubscribeAsync('$share/g/jobs/+');
      assert.equal(shareConsumers(broker.core).length, 1, 'group-two is still a member');

      const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
      await publisher.publishAsync('jobs/1', 'kept for the group', { qos: 1 });
      await publisher.endAsync();
      const back = mqtt.connect(broker.url, {
        protocolVersion: 5,
        clientId: 'group-two',
        clean: false,
        properties: { sessionExpiryInterval: 600 },
        reconnectPeriod: 0,
      });
      const received: string[] = [];
      back.on('message', (_topic, payload) => received.push(payload.toString()));
      await until(() => received.length === 1);
      assert.deepEqual(received, ['kept for the group']);
      await back.unsubscribeAsync('$share/g/jobs/+');
      assert.deepEqual(
        shareConsumers(broker.core),
        [],
        'the last member left: the group consumer is deleted',
      );
      await Promise.all([one.endAsync(), back.endAsync()]);
    } finally {
      await broker.close();
    }
  });

  test('the group consumer goes when the last member session expires or ends', async () => {
    const clock = new ManualClock(Date.now());
    const broker = await startTestBroker({ clock });
    try {
      const short = await member(broker, 'expiring-short', 10);
      const long = await member(broker, 'expiring-long', 30);
      const ending = await member(broker, 'ending', 600);
      for (const client of [short, long, ending]) await client.subscribeAsync('$share/h/work/#', { qos: 1 });
      assert.equal(shareConsumers(broker.core).length, 2, '`work` and `work.>`');
      await Promise.all([short.endAsync(), long.endAsync()]);
      await until(
        () =>
          broker.server.registry.sessions.get('expiring-short')?.connection === undefined &&
          broker.server.registry.sessions.get('expiring-long')?.connection === undefined,
      );
      // The last connected member ends its session (v5 DISCONNECT with session expiry 0).
      await ending.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
      await until(() => !broker.server.registry.sessions.has('ending'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(shareConsumers(broker.core).length, 2, 'two offline members remain');
      clock.advance(11_000);
      await until(() => !broker.server.registry.sessions.has('expiring-short'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(shareConsumers(broker.core).length, 2, 'one offline member remains');
      clock.advance(20_000);
      await until(() => shareConsumers(broker.core).length === 0);
    } finally {
      await broker.close();
    }
  });
});
