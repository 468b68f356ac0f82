// STOMP and the core's own API (what the native protocol and the in-process client call)
// see one message model: what one side publishes, the other consumes with nothing lost.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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
