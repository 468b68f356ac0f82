// STOMP, MQTT and the core's own API (what the native protocol and the in-process client
// call) see one message model: what one side publishes, the other consumes with nothing lost.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { connectAsync as mqttConnect } from 'mqtt';
import { SystemClock } from '../../src/common/clock.js';
import { silentLogger } from '../../src/common/logger.js';
import { InProcessClient } from '../../src/client/in-process-client.js';
import type { ReceivedMessage } from '../../src/client/types.js';
import { UsersAuthenticator } from '../../src/core/auth.js';
import { createMqttServer } from '../../src/protocols/mqtt/server.js';
import type { Delivery, Message } from '../../src/core/api.js';
import { encodeName } from '../../src/protocols/stomp/core-binding.js';
import { Inbox, connectStompJs, publishWithReceipt, subscribeWithReceipt } from './clients.js';
import { startStompHarness, type StompHarness } from './harness.js';

let harness: StompHarness;
before(async () => {
  harness = await startStompHarness();
});
after(async () => {
  await harness.close();
});

test('STOMP SEND → core consumer: headers map onto message fields', async () => {
  const stomp = await connectStompJs({ ws: harness.wsUrl });
  // The first SEND to a queue creates it.
  await publishWithReceipt(stomp.client, '/queue/orders.eu', 'order 1', {
    'content-type': 'application/json',
    'correlation-id': 'corr-9',
    'reply-to': '/queue/answers',
    priority: '8',
    persistent: 'true',
    'x-tenant': 'acme',
  });
  const session = harness.core.core.openSession();
  const deliveries = new Inbox<Delivery>();
  session.attach(encodeName('orders.eu'), encodeName('orders.eu'), {
    credit: 10,
    onDelivery: deliveries.push,
  });
  const delivery = await deliveries.next();
  const message = delivery.message;
  assert.equal(message.subject, 'orders.eu');
  assert.equal(message.body.toString(), 'order 1');
  assert.equal(message.contentType, 'application/json');
  assert.equal(message.correlationId, 'corr-9');
  assert.equal(message.replyTo, 'answers');
  assert.equal(message.priority, 8);
  assert.equal(message.persistent, true);
  assert.equal(message.headers['x-tenant'], 'acme');
  session.ack(delivery);
  await session.close();
  await stomp.close();
});

test('core publish → STOMP queue and topic subscribers', async () => {
  const stomp = await connectStompJs({ tcp: harness.tcpPort });
  const queue = await subscribeWithReceipt(stomp.client, '/queue/invoices', { ack: 'client-individual' });
  const topic = await subscribeWithReceipt(stomp.client, '/topic/prices.*');
  const session = harness.core.core.openSession();
  await session.publishConfirmed({
    subject: 'invoices',
    body: Buffer.from('invoice 7'),
    headers: { 'x-number': 7, 'x-paid': false },
    correlationId: 'c-7',
    replyTo: 'billing.replies',
    contentType: 'text/plain',
    priority: 2,
  });
  const received = await queue.inbox.next();
  assert.equal(received.body, 'invoice 7');
  assert.equal(received.headers['destination'], '/queue/invoices');
  assert.equal(received.headers['correlation-id'], 'c-7');
  assert.equal(received.headers['reply-to'], '/queue/billing.replies');
  assert.equal(received.headers['content-type'], 'text/plain');
  assert.equal(received.headers['priority'], '2');
  assert.equal(received.headers['x-number'], '7');
  assert.equal(received.headers['x-paid'], 'false');
  received.ack();
  session.publish({ subject: 'prices.gold', body: 'up' });
  const price = await topic.inbox.next();
  assert.equal(price.body, 'up');
  assert.equal(price.headers['destination'], '/topic/prices.gold');
  await session.close();
  await stomp.close();
});

test('core live subscriber sees STOMP topic messages', async () => {
  const session = harness.core.core.openSession();
  const messages = new Inbox<Message>();
  session.subscribeLive('alerts.>', { onMessage: messages.push });
  const stomp = await connectStompJs({ ws: harness.wsUrl });
  await publishWithReceipt(stomp.client, '/topic/alerts.disk', 'full', { 'x-host': 'db1' });
  const message = await messages.next();
  assert.equal(message.subject, 'alerts.disk');
  assert.equal(message.headers['x-host'], 'db1');
  await session.close();
  await stomp.close();
});

test('MQTT and STOMP on one core: topics both ways, MQTT into a STOMP queue', async () => {
  const mqttServer = createMqttServer({
    core: harness.core.core,
    authenticator: new UsersAuthenticator({ users: [] }),
    logger: silentLogger,
    clock: new SystemClock(),
    limits: { connectionsMax: 100, frameBytesMax: 1024 * 1024, messageBytesMax: 1024 * 1024 },
    options: {},
  });
  await mqttServer.ready;
  const listener = net.createServer((socket) =>
    mqttServer.handleConnection(socket, {
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      transport: 'tcp',
      loopback: true,
    }),
  );
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const port = (listener.address() as { port: number }).port;
  const mqtt = await mqttConnect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
  const stomp = await connectStompJs({ tcp: harness.tcpPort });
  try {
    // STOMP → MQTT
    const fromStomp = new Inbox<{ topic: string; payload: string }>();
    mqtt.on('message', (topic, payload) => fromStomp.push({ topic, payload: payload.toString() }));
    await mqtt.subscribeAsync('plant/+/temperature', { qos: 1 });
    await publishWithReceipt(stomp.client, '/topic/plant.hall.temperature', '21.5');
    assert.deepEqual(await fromStomp.next(), { topic: 'plant/hall/temperature', payload: '21.5' });
    // MQTT → STOMP topic
    const topic = await subscribeWithReceipt(stomp.client, '/topic/sensors.*');
    await mqtt.publishAsync('sensors/door', 'open', { qos: 1 });
    const message = await topic.inbox.next();
    assert.equal(message.body, 'open');
    assert.equal(message.headers['destination'], '/topic/sensors.door');
    // MQTT → STOMP queue: the queue's stream captures the subject.
    const queue = await subscribeWithReceipt(stomp.client, '/queue/jobs', { ack: 'client-individual' });
    await mqtt.publishAsync('jobs', 'job 1', { qos: 1 });
    const job = await queue.inbox.next();
    assert.equal(job.body, 'job 1');
    job.ack();
  } finally {
    await mqtt.endAsync();
    await stomp.close();
    await mqttServer.close();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
});

test('the in-process client and STOMP share queues and topics', async () => {
  const client = new InProcessClient(harness.core.core);
  const stomp = await connectStompJs({ ws: harness.wsUrl });
  try {
    await client.createQueue('work');
    const received = new Inbox<ReceivedMessage>();
    client.subscribe({ stream: 'work', consumer: 'work' }, { callback: received.push });
    await publishWithReceipt(stomp.client, '/queue/work', 'task', { 'x-step': '1', 'correlation-id': 'w1' });
    const task = await received.next();
    assert.equal(task.body.toString(), 'task');
    assert.equal(task.headers['x-step'], '1');
    assert.equal(task.correlationId, 'w1');
    client.ack(task);
    const topic = await subscribeWithReceipt(stomp.client, '/topic/client.events');
    client.publish('client.events', 'started', { headers: { 'x-from': 'client' } });
    const event = await topic.inbox.next();
    assert.equal(event.body, 'started');
    assert.equal(event.headers['x-from'], 'client');
  } finally {
    await stomp.close();
    await client.close();
  }
});
