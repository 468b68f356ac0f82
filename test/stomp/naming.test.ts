// One queue, whatever protocol names it (DESIGN.md §1, src/core/destinations.ts): STOMP
// `/queue/x`, the in-process client's and the network client's `createQueue('x')` reach the
// same workqueue stream; durable topic subscriptions from STOMP and the clients coexist.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { SystemClock } from '../../src/common/clock.js';
import { ErrorCode, isWeirError } from '../../src/common/errors.js';
import { NativeLimits } from '../../src/common/limits.js';
import { silentLogger } from '../../src/common/logger.js';
import { InProcessClient } from '../../src/client/in-process-client.js';
import { connect } from '../../src/client/index.js';
import { ConnectionFactory, type TextMessage } from '../../src/client/jms/index.js';
import type { NetworkClient, ReceivedMessage, Subscription } from '../../src/client/index.js';
import { UsersAuthenticator } from '../../src/core/auth.js';
import {
  durableConsumerName,
  ensureDurableSubscription,
  ensureQueue,
  queueStreamName,
} from '../../src/core/destinations.js';
import type { ProtocolServer } from '../../src/core/protocol-server.js';
import { createNativeServer } from '../../src/protocols/native/server.js';
import { Inbox, connectStompJs, publishWithReceipt, subscribeWithReceipt } from './clients.js';
import { startStompHarness, type StompHarness } from './harness.js';

let harness: StompHarness;
let native: ProtocolServer;
let listener: net.Server;
let nativeAddress: string;

before(async () => {
  harness = await startStompHarness();
  native = createNativeServer({
    core: harness.core.core,
    authenticator: new UsersAuthenticator({ users: [] }),
    logger: silentLogger,
    clock: new SystemClock(),
    limits: {
      connectionsMax: 100,
      frameBytesMax: NativeLimits.frameBytesDefault,
      messageBytesMax: 4 * 1024 * 1024,
    },
    options: {},
  });
  listener = net.createServer((socket) =>
    native.handleConnection(socket, {
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      transport: 'tcp',
      loopback: true,
    }),
  );
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  nativeAddress = `127.0.0.1:${(listener.address() as net.AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => {
    listener.close(() => resolve());
    void native.close();
  });
  await harness.close();
});

/** Collects a subscription's messages into an inbox, acking each. */
function drain(subscription: Subscription): Inbox<ReceivedMessage> {
  const inbox = new Inbox<ReceivedMessage>();
  void (async () => {
    for await (const message of subscription) {
      message.ack();
      inbox.push(message);
    }
  })().catch(() => undefined);
  return inbox;
}

async function networkClient(): Promise<NetworkClient> {
  return connect({ servers: nativeAddress });
}

const queueNames = ['orders.eu', 'billing-eu.invoices', 'caf\u00e9.\u6ce8\u6587', 'under_score.x'];

for (const name of queueNames) {
  test(`STOMP /queue/${name} → in-process and network createQueue('${name}') consumers`, async () => {
    const stomp = await connectStompJs({ tcp: harness.tcpPort });
    await publishWithReceipt(stomp.client, `/queue/${name}`, 'from stomp 1');

    const local = new InProcessClient(harness.core.core);
    const queue = await local.createQueue(name);
    assert.equal(queue.stream.config.name, queueStreamName(name));
    assert.equal(queue.consumer.config.name, queueStreamName(name));
    assert.deepEqual(queue.stream.config.subjects, [name]);
    const localInbox = drain(
      local.subscribe({ stream: queue.stream.config.name, consumer: queue.consumer.config.name }),
    );
    const first = await localInbox.next();
    assert.equal(first.body.toString(), 'from stomp 1');
    assert.equal(first.subject, name);
    await local.close();

    const remote = await networkClient();
    const remoteQueue = await remote.createQueue(name);
    assert.equal(remoteQueue.stream.config.name, queue.stream.config.name);
    const remoteInbox = drain(
      remote.subscribe({
        stream: remoteQueue.stream.config.name,
        consumer: remoteQueue.consumer.config.name,
      }),
    );
    await publishWithReceipt(stomp.client, `/queue/${name}`, 'from stomp 2');
    const second = await remoteInbox.next();
    assert.equal(second.body.toString(), 'from stomp 2');
    await remote.close();
    await stomp.close();
  });
}

test('in-process and network createQueue → STOMP /queue subscriber (the reverse)', async () => {
  const name = 'shipments.eu-west';
  const local = new InProcessClient(harness.core.core);
  await local.createQueue(name);
  await local.publishConfirmed(name, 'from in-process');
  const remote = await networkClient();
  await remote.createQueue(name);
  await remote.publishConfirmed(name, 'from network');

  const stomp = await connectStompJs({ ws: harness.wsUrl });
  const subscription = await subscribeWithReceipt(stomp.client, `/queue/${name}`, {
    ack: 'client-individual',
  });
  const bodies = new Set<string>();
  for (let index = 0; index < 2; index++) {
    const message = await subscription.inbox.next();
    assert.equal(message.headers['destination'], `/queue/${name}`);
    bodies.add(message.body);
    message.ack();
  }
  assert.deepEqual([...bodies].sort(), ['from in-process', 'from network']);
  // One queue: one stream captures the subject.
  const streams = harness.core.core.listStreams().filter((stream) => stream.config.subjects.includes(name));
  assert.equal(streams.length, 1);
  await stomp.close();
  await remote.close();
  await local.close();
});

test('createQueue is idempotent and two sessions creating one queue at once both succeed', async () => {
  const name = 'race.q-1';
  const local = new InProcessClient(harness.core.core);
  const remote = await networkClient();
  const results = await Promise.all([
    local.createQueue(name),
    remote.createQueue(name),
    local.createQueue(name),
    ensureQueue(harness.core.core, name).then((queue) => ({ stream: queue.streamInfo })),
  ]);
  for (const result of results) assert.equal(result.stream.config.name, queueStreamName(name));
  await remote.close();
  await local.close();
});

test('STOMP and client durable subscriptions on one topic coexist, stored once', async () => {
  const topic = 'news.sport';
  const stomp = await connectStompJs({ tcp: harness.tcpPort }, { 'client-id': 'stomp-app' });
  const stompSubscription = await subscribeWithReceipt(stomp.client, `/topic/${topic}`, {
    'activemq.subscriptionName': 'scores',
    ack: 'client-individual',
  });
  const local = new InProcessClient(harness.core.core);
  const localInbox = drain(local.subscribe(topic, { durable: 'local-scores' }));
  const remote = await networkClient();
  const remoteInbox = drain(remote.subscribe(topic, { durable: 'remote.scores' }));
  // Wait until both client subscriptions exist on the broker.
  for (let attempt = 0; attempt < 100; attempt++) {
    const stream = harness.core.core.listStreams().find((info) => info.config.subjects.includes(topic));
    if (stream !== undefined && harness.core.core.listConsumers(stream.config.name).length >= 3) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const streams = harness.core.core.listStreams().filter((info) => info.config.subjects.includes(topic));
  assert.equal(streams.length, 1, 'one interest stream for the topic');
  assert.equal(streams[0]?.config.retention, 'interest');

  await publishWithReceipt(stomp.client, `/topic/${topic}`, 'goal');
  const viaStomp = await stompSubscription.inbox.next();
  assert.equal(viaStomp.body, 'goal');
  viaStomp.ack();
  assert.equal((await localInbox.next()).body.toString(), 'goal');
  assert.equal((await remoteInbox.next()).body.toString(), 'goal');
  await remote.close();
  await local.close();
  await stomp.close();
});

test('a durable topic overlapping a queue is refused with WEIR_DESTINATION_CONFLICT', async () => {
  await ensureQueue(harness.core.core, 'alerts.queue');
  await assert.rejects(
    ensureDurableSubscription(harness.core.core, { topicFilter: 'alerts.>', subscriptionName: 'all-alerts' }),
    (error: unknown) =>
      isWeirError(error, ErrorCode.DestinationConflict) && /queue 'alerts.queue'/.test(String(error)),
  );
  await ensureDurableSubscription(harness.core.core, { topicFilter: 'metrics.>', subscriptionName: 'm' });
  await assert.rejects(ensureQueue(harness.core.core, 'metrics.cpu'), (error: unknown) =>
    isWeirError(error, ErrorCode.DestinationConflict),
  );
  const remote = await networkClient();
  await assert.rejects(remote.createQueue('metrics.disk'), (error: unknown) =>
    isWeirError(error, ErrorCode.DestinationConflict),
  );
  await remote.close();
});

test('JMS queue and STOMP /queue are one queue', async () => {
  const connection = await new ConnectionFactory({ servers: nativeAddress }).createConnection();
  connection.start();
  const session = connection.createSession();
  const queue = session.createQueue('jms.orders.eu');
  await session.createProducer(queue).send(session.createTextMessage('from jms'));
  const stomp = await connectStompJs({ tcp: harness.tcpPort });
  const subscription = await subscribeWithReceipt(stomp.client, '/queue/jms.orders.eu', {
    ack: 'client-individual',
  });
  const message = await subscription.inbox.next();
  assert.equal(message.body, 'from jms');
  message.ack();
  await publishWithReceipt(stomp.client, '/queue/jms.orders.eu', 'from stomp', {
    'content-type': 'text/plain',
  });
  subscription.unsubscribe();
  const consumer = await session.createConsumer(queue);
  assert.equal(((await consumer.receive(5_000)) as TextMessage | null)?.text, 'from stomp');
  await connection.close();
  await stomp.close();
});

test('a STOMP ActiveMQ-dialect durable subscription is the JMS one of the same client id and name', async () => {
  const topic = 'jms.news';
  const stomp = await connectStompJs({ tcp: harness.tcpPort }, { 'client-id': 'app-7' });
  const stompSubscription = await subscribeWithReceipt(stomp.client, `/topic/${topic}`, {
    'activemq.subscriptionName': 'headlines',
    ack: 'client-individual',
  });
  stompSubscription.unsubscribe(); // detaches; the durable subscription stays
  await stomp.close();
  const consumerName = durableConsumerName('headlines', 'app-7');
  const stream = harness.core.core
    .listStreams()
    .find((info) =>
      harness.core.core.listConsumers(info.config.name).some((c) => c.config.name === consumerName),
    );
  assert.ok(stream !== undefined, 'the STOMP subscription exists under the shared name');

  // Published while nobody is attached: kept for the subscription, then read over JMS.
  const local = new InProcessClient(harness.core.core);
  await local.publishConfirmed(topic, 'kept', { contentType: 'text/plain' });
  await local.close();
  const connection = await new ConnectionFactory({
    servers: nativeAddress,
    clientId: 'app-7',
  }).createConnection();
  connection.start();
  const session = connection.createSession();
  const durable = await session.createDurableConsumer(session.createTopic(topic), 'headlines');
  assert.equal(((await durable.receive(5_000)) as TextMessage | null)?.text, 'kept');
  await durable.close();
  await session.unsubscribe('headlines');
  assert.ok(!harness.core.core.listConsumers(stream.config.name).some((c) => c.config.name === consumerName));
  await connection.close();
});
