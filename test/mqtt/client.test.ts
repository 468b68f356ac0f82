// The MQTT adapter against the `mqtt` npm client, both protocol versions, over a real
// socket. Live subscriptions only here (clean sessions); persistent sessions and durable
// queues are in sessions.test.ts.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { startTestBroker } from './helpers.js';
import type { TestBroker } from './helpers.js';

interface Received {
  topic: string;
  payload: string;
  packet: IPublishPacket;
}

function collect(client: MqttClient): Received[] {
  const received: Received[] = [];
  client.on('message', (topic, payload, packet) =>
    received.push({ topic, payload: payload.toString(), packet }),
  );
  return received;
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

for (const protocolVersion of [4, 5] as const) {
  describe(`MQTT ${protocolVersion === 4 ? '3.1.1' : '5.0'} with the mqtt client`, () => {
    let broker: TestBroker;
    const clients: MqttClient[] = [];
    const connect = async (options: mqtt.IClientOptions = {}): Promise<MqttClient> => {
      const client = await mqtt.connectAsync(broker.url, { protocolVersion, reconnectPeriod: 0, ...options });
      clients.push(client);
      return client;
    };

    before(async () => {
      broker = await startTestBroker();
    });
    after(async () => {
      for (const client of clients) client.end(true);
      await broker.close();
    });

    test('QoS 0, 1 and 2 in both directions, granted QoS is the lower one', async () => {
      const subscriber = await connect();
      const received = collect(subscriber);
      const granted = await subscriber.subscribeAsync('q/+', { qos: 1 });
      assert.equal(granted[0]?.qos, 1);
      const publisher = await connect();
      await publisher.publishAsync('q/0', 'zero', { qos: 0 });
      await publisher.publishAsync('q/1', 'one', { qos: 1 });
      await publisher.publishAsync('q/2', 'two', { qos: 2 });
      await until(() => received.length === 3);
      assert.deepEqual(
        received.map((message) => [message.topic, message.payload, message.packet.qos]),
        [
          ['q/0', 'zero', 0],
          ['q/1', 'one', 1],
          ['q/2', 'two', 1],
        ],
      );
    });

    test('`#` matches the parent level; `$` topics only by a literal first level', async () => {
      const subscriber = await connect();
      const received = collect(subscriber);
      await subscriber.subscribeAsync(['p/#', '#'], { qos: 0 });
      const publisher = await connect();
      await publisher.publishAsync('p', 'parent');
      await until(() => received.length === 2);
      assert.ok(received.every((message) => message.topic === 'p'));
      const sys = await connect();
      const sysReceived = collect(sys);
      await sys.subscribeAsync('$SYS/#');
      // A client may not publish under $SYS; the broker's own statistics are there.
      broker.server.registry.systemSession().publish({ subject: '$SYS.test', body: 'x' });
      await until(() => sysReceived.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(received.length, 2, 'the `#` subscription did not get $SYS/test');
    });

    test('retained messages: sent on subscribe with RETAIN set, cleared by an empty payload', async () => {
      const publisher = await connect();
      await publisher.publishAsync('r/a', 'kept', { qos: 1, retain: true });
      await publisher.publishAsync('r/b', 'gone', { qos: 1, retain: true });
      await publisher.publishAsync('r/b', '', { qos: 1, retain: true });
      const subscriber = await connect();
      const received = collect(subscriber);
      await subscriber.subscribeAsync('r/+', { qos: 1 });
      await until(() => received.length >= 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(
        received.map((message) => [message.topic, message.payload, message.packet.retain]),
        [['r/a', 'kept', true]],
      );
      // A live message on a retained topic goes out with RETAIN 0 (3.1.1 [MQTT-3.3.1-9], 5.0 without RAP).
      await publisher.publishAsync('r/a', 'again', { qos: 1, retain: true });
      await until(() => received.length === 2);
      assert.equal(received[1]?.packet.retain, false);
    });

    test('the will is published when a client goes away, not after DISCONNECT', async () => {
      const watcher = await connect();
      const received = collect(watcher);
      await watcher.subscribeAsync('will/+', { qos: 1 });
      const leaving = await connect({
        will: { topic: 'will/abrupt', payload: Buffer.from('bye'), qos: 1, retain: false },
      });
      const polite = await connect({
        will: { topic: 'will/polite', payload: Buffer.from('bye'), qos: 1, retain: false },
      });
      await polite.endAsync();
      leaving.stream.destroy();
      await until(() => received.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(
        received.map((message) => message.topic),
        ['will/abrupt'],
      );
    });

    test('a second connection with the same client id takes the session over', async () => {
      const first = await connect({ clientId: `same-${protocolVersion}` });
      const closed = new Promise<void>((resolve) => first.on('close', () => resolve()));
      await connect({ clientId: `same-${protocolVersion}` });
      await closed;
    });

    test('shared subscriptions give each message to one member', async () => {
      const one = await connect();
      const two = await connect();
      const receivedOne = collect(one);
      const receivedTwo = collect(two);
      await one.subscribeAsync('$share/workers/jobs/#', { qos: 0 });
      await two.subscribeAsync('$share/workers/jobs/#', { qos: 0 });
      const publisher = await connect();
      for (let index = 0; index < 10; index++)
        await publisher.publishAsync(`jobs/${index}`, String(index), { qos: 1 });
      await until(() => receivedOne.length + receivedTwo.length === 10);
      assert.ok(receivedOne.length > 0 && receivedTwo.length > 0, 'both members got some');
    });

    test('topic names with dots, spaces and empty levels arrive as published', async () => {
      const subscriber = await connect();
      const received = collect(subscriber);
      await subscriber.subscribeAsync(['odd/#', '/lead'], { qos: 0 });
      const publisher = await connect();
      for (const topic of ['odd/v1.2', 'odd/a b', 'odd//x', 'odd/100%', '/lead'])
        await publisher.publishAsync(topic, topic);
      await until(() => received.length === 5);
      assert.deepEqual(received.map((message) => message.topic).sort(), [
        '/lead',
        'odd//x',
        'odd/100%',
        'odd/a b',
        'odd/v1.2',
      ]);
    });
  });
}

describe('MQTT 5.0 features', () => {
  let broker: TestBroker;
  const clients: MqttClient[] = [];
  const connect = async (options: mqtt.IClientOptions = {}): Promise<MqttClient> => {
    const client = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      ...options,
    });
    clients.push(client);
    return client;
  };
  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    for (const client of clients) client.end(true);
    await broker.close();
  });

  test('an empty client id is assigned and returned in CONNACK', async () => {
    const client = mqtt.connect(broker.url, { protocolVersion: 5, reconnectPeriod: 0, clientId: '' });
    clients.push(client);
    const connack = await new Promise<mqtt.IConnackPacket>((resolve) => client.once('connect', resolve));
    const assigned = connack.properties?.assignedClientIdentifier ?? '';
    assert.match(assigned, /^weir-/);
  });

  test('properties travel: user properties, content type, response topic, correlation data, expiry', async () => {
    const subscriber = await connect();
    const received = collect(subscriber);
    await subscriber.subscribeAsync('props/x', { qos: 1 });
    const publisher = await connect();
    await publisher.publishAsync('props/x', 'body', {
      qos: 1,
      properties: {
        userProperties: { a: '1', many: ['x', 'y'] },
        contentType: 'text/plain',
        responseTopic: 'reply/here',
        correlationData: Buffer.from([1, 2, 255]),
        messageExpiryInterval: 60,
        payloadFormatIndicator: true,
      },
    });
    await until(() => received.length === 1);
    const properties = received[0]?.packet.properties ?? {};
    assert.deepEqual({ ...properties.userProperties }, { a: '1', many: ['x', 'y'] });
    assert.equal(properties.contentType, 'text/plain');
    assert.equal(properties.responseTopic, 'reply/here');
    assert.deepEqual(properties.correlationData, Buffer.from([1, 2, 255]));
    assert.ok((properties.messageExpiryInterval ?? 0) <= 60 && (properties.messageExpiryInterval ?? 0) >= 59);
    assert.equal(properties.payloadFormatIndicator, true);
  });

  test('subscription identifiers, no local and retain as published', async () => {
    const client = await connect();
    const received = collect(client);
    await client.subscribeAsync('opt/a', { qos: 0, properties: { subscriptionIdentifier: 7 } });
    await client.subscribeAsync('opt/b', { qos: 0, nl: true });
    await client.subscribeAsync('opt/c', { qos: 0, rap: true });
    await client.publishAsync('opt/a', 'a');
    await client.publishAsync('opt/b', 'b');
    await client.publishAsync('opt/c', 'c', { retain: true, qos: 1 });
    await until(() => received.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(
      received.map((message) => [
        message.topic,
        message.packet.properties?.subscriptionIdentifier,
        message.packet.retain,
      ]),
      [
        ['opt/a', 7, false],
        ['opt/c', undefined, true],
      ],
    );
  });

  test('retain handling 1 and 2', async () => {
    const publisher = await connect();
    await publisher.publishAsync('rh/x', 'kept', { qos: 1, retain: true });
    const client = await connect();
    const received = collect(client);
    await client.subscribeAsync('rh/x', { qos: 0, rh: 2 });
    await client.subscribeAsync('rh/+', { qos: 0, rh: 1 });
    await client.subscribeAsync('rh/+', { qos: 0, rh: 1 });
    await until(() => received.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(received.length, 1, 'only the first rh=1 subscription got the retained message');
  });

  test('topic aliases both ways', async () => {
    const subscriber = await connect({ properties: { topicAliasMaximum: 5 } });
    const received = collect(subscriber);
    await subscriber.subscribeAsync('alias/t', { qos: 0 });
    const publisher = await connect();
    await publisher.publishAsync('alias/t', 'first', { properties: { topicAlias: 1 } });
    await publisher.publishAsync('', 'second', { properties: { topicAlias: 1 } });
    await until(() => received.length === 2);
    assert.deepEqual(
      received.map((message) => [message.topic, message.payload]),
      [
        ['alias/t', 'first'],
        ['alias/t', 'second'],
      ],
    );
  });

  test('message expiry: an expired message is not delivered', async () => {
    const core = broker.server.registry.systemSession();
    const client = await connect();
    const received = collect(client);
    await client.subscribeAsync('exp/#', { qos: 0 });
    core.publish({ subject: 'exp.old', body: 'old', expiresAtMs: Date.now() - 1 });
    core.publish({ subject: 'exp.new', body: 'new', expiresAtMs: Date.now() + 60_000 });
    await until(() => received.length === 1);
    assert.equal(received[0]?.topic, 'exp/new');
  });
});
