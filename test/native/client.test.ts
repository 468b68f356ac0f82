import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode, isWeirError } from '../../src/common/errors.js';
import { hashPassword } from '../../src/core/auth.js';
import type { NetworkClient, ReceivedMessage } from '../../src/client/index.js';
import { connect } from '../../src/client/index.js';
import type { TestBroker } from './harness.js';
import { startBroker, tempDir, until } from './harness.js';

let broker: TestBroker;
let temp: { dir: string; remove(): Promise<void> };
const clients: NetworkClient[] = [];

async function client(options: Parameters<typeof connect>[0] = {}): Promise<NetworkClient> {
  const created = await connect({ servers: broker.address, ...options });
  clients.push(created);
  return created;
}

before(async () => {
  temp = await tempDir();
  broker = await startBroker({
    dataDir: temp.dir,
    users: [{ name: 'alice', passwordHash: await hashPassword('secret') }],
  });
});

after(async () => {
  for (const each of clients) await each.close();
  await broker.close();
  await temp.remove();
});

test('publishConfirmed stores durably; fetch, ack and nack over the wire', async () => {
  const c = await client();
  await c.admin.addStream({ name: 'orders', subjects: ['orders.>'] });
  await c.admin.addConsumer('orders', { name: 'billing', ackPolicy: 'explicit' });
  const ack = await c.publishConfirmed('orders.eu', 'first', {
    headers: { region: 'eu', n: 1, urgent: true },
  });
  assert.equal(ack.stream, 'orders');
  assert.equal(ack.offset, 0);
  await c.publishConfirmed('orders.us', Buffer.from([1, 2, 3]), {
    key: 'k',
    priority: 2,
    correlationId: 'c1',
  });
  const fetched = await c.fetch({ stream: 'orders', consumer: 'billing' }, { batch: 10, expiresMs: 100 });
  assert.equal(fetched.length, 2);
  const [first, second] = fetched as [ReceivedMessage, ReceivedMessage];
  assert.equal(first.string(), 'first');
  assert.deepEqual(first.headers, { region: 'eu', n: 1, urgent: true });
  assert.equal(first.deliveryCount, 1);
  assert.deepEqual(second.body, Buffer.from([1, 2, 3]));
  assert.equal(second.key, 'k');
  assert.equal(second.priority, 2);
  assert.equal(second.correlationId, 'c1');
  assert.equal(await first.ackConfirmed(), 'acked');
  second.nack({ reason: 'not yet' });
  const again = await c.fetch({ stream: 'orders', consumer: 'billing' }, { batch: 10, expiresMs: 2_000 });
  assert.equal(again.length, 1);
  assert.equal(again[0]?.string(), '\u0001\u0002\u0003');
  assert.equal(again[0]?.deliveryCount, 2);
  assert.equal(again[0]?.redelivered, true);
  assert.equal(await again[0]?.ackConfirmed(), 'acked');
  // A second ack of an already-acked attempt changes nothing.
  assert.notEqual(await first.ackConfirmed(), undefined);
  const info = await c.admin.consumerInfo('orders', 'billing');
  assert.equal(info.acked, 2);
});

test('confirmed publish to a subject no stream captures is refused with WEIR_NO_STREAM', async () => {
  const c = await client();
  await assert.rejects(c.publishConfirmed('nowhere.at.all', 'x'), (error: unknown) =>
    isWeirError(error, ErrorCode.NoStream),
  );
});

test('push subscription with a callback acks; a throwing handler nacks and the message comes back', async () => {
  const c = await client();
  await c.createQueue('jobs');
  const seen: string[] = [];
  const errors: string[] = [];
  let failOnce = true;
  const subscription = c.subscribe(
    { stream: 'jobs', consumer: 'jobs' },
    {
      callback: (message) => {
        seen.push(`${message.string()}#${message.deliveryCount}`);
        if (message.string() === 'b' && failOnce) {
          failOnce = false;
          throw new Error('boom');
        }
      },
      onError: (error) => errors.push(error.message),
    },
  );
  await c.publishConfirmed('jobs', 'a');
  await c.publishConfirmed('jobs', 'b');
  await until(() => seen.length === 3, 'three handler calls');
  assert.deepEqual(seen, ['a#1', 'b#1', 'b#2']);
  assert.deepEqual(errors, ['boom']);
  assert.equal(subscription.failures, 1);
  await until(() => broker.core.consumerInfo('jobs', 'jobs').ackPending === 0, 'all acked');
  assert.equal(broker.core.consumerInfo('jobs', 'jobs').acked, 2);
  await subscription.close();
});

test('async iterator over a push subscription, with prefetch bounding what the broker sends', async () => {
  const c = await client();
  await c.admin.addStream({ name: 'events', subjects: ['events.*'] });
  await c.admin.addConsumer('events', { name: 'reader', dispatch: 'exclusive' });
  for (let index = 0; index < 50; index++) c.publish('events.x', `m${index}`);
  await until(() => broker.core.streamInfo('events').messages === 50, 'fifty stored');
  const subscription = c.subscribe({ stream: 'events', consumer: 'reader' }, { prefetch: 4 });
  const got: string[] = [];
  for await (const message of subscription) {
    got.push(message.string());
    message.ack();
    if (got.length === 50) break;
  }
  assert.deepEqual(
    got,
    Array.from({ length: 50 }, (_, index) => `m${index}`),
  );
  await until(() => broker.core.consumerInfo('events', 'reader').acked === 50, 'fifty acked');
});

test('live subscriptions: iterator, queue groups and no-local', async () => {
  const c = await client();
  const other = await client();
  const live = c.subscribe('news.*');
  const groupA = other.subscribe('news.*', { queueGroup: 'g', callback: () => undefined });
  const groupB = other.subscribe('news.*', { queueGroup: 'g', callback: () => undefined });
  const own = c.subscribe('news.*', { noLocal: true, callback: () => undefined });
  // Subscriptions are set up asynchronously; a confirmed round trip orders after them.
  await c.admin.listStreams();
  await other.admin.listStreams();
  for (let index = 0; index < 10; index++) c.publish('news.today', `n${index}`);
  const got: string[] = [];
  for await (const message of live) {
    got.push(message.string());
    assert.equal(message.stream, undefined);
    if (got.length === 10) break;
  }
  assert.equal(got[0], 'n0');
  await until(() => groupA.received + groupB.received === 10, 'group members share ten');
  assert.ok(groupA.received > 0 && groupB.received > 0, 'round-robin reaches both members');
  assert.equal(own.received, 0);
  await Promise.all([groupA.close(), groupB.close(), own.close()]);
});

test('durable topic subscription keeps messages while the subscriber is away', async () => {
  const c = await client();
  const first = c.subscribe('alerts.fire', { durable: 'pager' });
  const attached = (): boolean => {
    const stream = broker.core.findStreamFor('alerts.fire');
    return stream !== undefined && broker.core.listConsumers(stream).some((info) => info.attached > 0);
  };
  await until(attached, 'durable consumer attached');
  await first.close();
  await c.publishConfirmed('alerts.fire', 'one');
  await c.publishConfirmed('alerts.fire', 'two');
  const seen: string[] = [];
  const second = c.subscribe('alerts.fire', {
    durable: 'pager',
    callback: (message) => void seen.push(message.string()),
  });
  await until(() => seen.length === 2, 'two kept messages');
  assert.deepEqual(seen, ['one', 'two']);
  await second.close();
});

test('term dead-letters; redrive republishes to the original subject', async () => {
  const c = await client();
  await c.admin.addStream({ name: 'mail', subjects: ['mail'] });
  await c.admin.addConsumer('mail', { name: 'sender' });
  await c.publishConfirmed('mail', 'bounce me');
  const [message] = await c.fetch({ stream: 'mail', consumer: 'sender' }, { expiresMs: 1_000 });
  assert.ok(message !== undefined);
  message.term('bad address');
  await until(
    () =>
      broker.core
        .listStreams()
        .some((info) => info.config.name === '$DLQ_mail' || info.config.subjects.includes('$DLQ.mail')),
    'dead-letter stream',
    3_000,
  );
  const deadLetterStream = broker.core.findStreamFor('$DLQ.mail') as string;
  await until(() => broker.core.streamInfo(deadLetterStream).messages === 1, 'one dead letter');
  const result = await c.admin.redrive(deadLetterStream);
  assert.equal(result.redriven, 1);
  const [back] = await c.fetch({ stream: 'mail', consumer: 'sender' }, { expiresMs: 2_000 });
  assert.equal(back?.string(), 'bounce me');
  back?.ack();
});

test('administration over the wire: streams and consumers', async () => {
  const c = await client();
  const info = await c.admin.addStream({ name: 'audit', subjects: ['audit.*'], retention: 'limits' });
  assert.equal(info.config.name, 'audit');
  await assert.rejects(
    c.admin.addStream({ name: 'audit', subjects: ['audit.*'], retention: 'workqueue' }),
    (error: unknown) => isWeirError(error, ErrorCode.StreamExists),
  );
  assert.ok((await c.admin.listStreams()).some((stream) => stream.config.name === 'audit'));
  await c.admin.addConsumer('audit', { name: 'a1' });
  assert.equal((await c.admin.listConsumers('audit')).length, 1);
  assert.equal((await c.admin.consumerInfo('audit', 'a1')).config.name, 'a1');
  assert.equal(await c.admin.deleteConsumer('audit', 'a1'), true);
  assert.equal(await c.admin.deleteStream('audit'), true);
  await assert.rejects(c.admin.streamInfo('audit'), (error: unknown) =>
    isWeirError(error, ErrorCode.StreamNotFound),
  );
});

test('request-reply: a responder answers through reply-to; no responders and timeouts are errors', async () => {
  const requester = await client();
  const responder = await client();
  const service = responder.subscribe('svc.echo', {
    callback: (message) => {
      if (message.replyTo !== undefined) responder.publish(message.replyTo, `echo ${message.string()}`);
    },
  });
  await responder.admin.listStreams();
  const reply = await requester.request('svc.echo', 'hi', { timeoutMs: 2_000, headers: { trace: 't1' } });
  assert.equal(reply.string(), 'echo hi');
  await assert.rejects(requester.request('svc.nobody', 'x', { timeoutMs: 500 }), (error: unknown) =>
    isWeirError(error, ErrorCode.NoResponders),
  );
  const silent = responder.subscribe('svc.silent', { callback: () => undefined });
  await responder.admin.listStreams();
  await assert.rejects(requester.request('svc.silent', 'x', { timeoutMs: 200 }), (error: unknown) =>
    isWeirError(error, ErrorCode.Timeout),
  );
  await Promise.all([service.close(), silent.close()]);
});

test('transactions: consume from one stream and produce to another atomically; a failing one applies nothing', async () => {
  const c = await client();
  await c.createQueue('tx-in');
  await c.createQueue('tx-out');
  await c.publishConfirmed('tx-in', 'order-1');
  await c.publishConfirmed('tx-in', 'order-2');
  const [first, second] = await c.fetch(
    { stream: 'tx-in', consumer: 'tx-in' },
    { batch: 2, expiresMs: 1_000 },
  );
  assert.ok(first !== undefined && second !== undefined);

  const good = c.beginTransaction();
  good.ack(first);
  good.publish('tx-out', `processed ${first.string()}`);
  const acks = await good.commit();
  assert.equal(acks.length, 1);
  assert.equal(acks[0]?.stream, 'tx-out');

  // A publish no stream captures fails the whole transaction: the ack of order-2 is not applied either.
  const bad = c.beginTransaction();
  bad.ack(second);
  bad.publish('tx-out', `processed ${second.string()}`);
  bad.publish('nowhere.at.all', 'x');
  await assert.rejects(bad.commit(), (error: unknown) => isWeirError(error, ErrorCode.NoStream));
  await until(() => broker.core.streamInfo('tx-out').messages === 1, 'one output');
  assert.equal(broker.core.consumerInfo('tx-in', 'tx-in').acked, 1);

  // Abort redelivers what the transaction had acked.
  const aborted = c.beginTransaction();
  aborted.ack(second);
  await aborted.abort();
  const [again] = await c.fetch({ stream: 'tx-in', consumer: 'tx-in' }, { expiresMs: 2_000 });
  assert.equal(again?.string(), 'order-2');
  assert.ok((again?.deliveryCount ?? 0) >= 2);
});

test('authentication: a user from the users file, a wrong password is refused', async () => {
  const c = await client({ user: 'alice', password: 'secret' });
  assert.ok(c.sessionId !== undefined);
  await assert.rejects(
    connect({ servers: broker.address, user: 'alice', password: 'wrong' }),
    (error: unknown) => isWeirError(error, ErrorCode.AuthenticationFailed),
  );
});

test('a dropped connection reconnects and restores the push subscription', async () => {
  const c = await client({ reconnectDelayMs: 10 });
  await c.createQueue('work');
  const seen: string[] = [];
  const subscription = c.subscribe(
    { stream: 'work', consumer: 'work' },
    { callback: (message) => void seen.push(message.string()) },
  );
  await c.publishConfirmed('work', 'before');
  await until(() => seen.length === 1, 'first message');
  // The ack goes out with the next tick's write; let it reach the broker before the drop.
  await until(() => broker.core.consumerInfo('work', 'work').acked === 1, 'first ack');
  const reconnected = new Promise<void>((resolve) => c.once('reconnect', () => resolve()));
  c.dropConnection();
  await reconnected;
  await c.publishConfirmed('work', 'after');
  await until(() => seen.includes('after'), 'message after reconnect');
  assert.deepEqual(seen, ['before', 'after']);
  await subscription.close();
});
