// Ack wait, nack with delay, backoff, max deliveries, term, dead letters, redrive, stale acks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import type { CoreSession, Delivery } from '../../src/core/api.js';
import type { BrokerCore } from '../../src/core/broker.js';
import { DeadLetterHeader } from '../../src/core/dead-letter.js';
import { openCore, settle, until } from './helpers.js';

async function setup(
  consumer: Parameters<BrokerCore['addConsumer']>[1],
): Promise<{ core: BrokerCore; clock: ManualClock; session: CoreSession; received: Delivery[] }> {
  const clock = new ManualClock();
  const core = await openCore({ storage: 'memory', clock });
  await core.addStream({ name: 'tasks', subjects: ['tasks.*'] });
  await core.addConsumer('tasks', consumer);
  const session = core.openSession();
  const received: Delivery[] = [];
  session.attach('tasks', consumer.name, { credit: 100, onDelivery: (delivery) => received.push(delivery) });
  return { core, clock, session, received };
}

test('ack wait expiry redelivers with the next attempt number; a stale ack is rejected and counted', async () => {
  const { core, clock, session, received } = await setup({ name: 'c', ackWaitMs: 1_000 });
  try {
    session.publish({ subject: 'tasks.a', body: 'x' });
    await until(() => received.length === 1, 'first delivery');
    clock.advance(999);
    await settle();
    assert.equal(received.length, 1);
    clock.advance(1);
    await until(() => received.length === 2, 'redelivery');
    const [first, second] = received as [Delivery, Delivery];
    assert.equal(second.deliveryCount, 2);
    assert.equal(second.redelivered, true);
    assert.equal(session.ack(first), 'stale');
    assert.equal(core.consumerInfo('tasks', 'c').staleAcks, 1);
    assert.equal(session.nack(first), 'stale', 'a stale nack changes nothing either');
    assert.equal(core.consumerInfo('tasks', 'c').ackPending, 1);
    assert.equal(session.ack(second), 'acked');
    assert.equal(core.consumerInfo('tasks', 'c').ackPending, 0);
    clock.advance(10_000);
    await settle();
    assert.equal(received.length, 2, 'acked messages are not redelivered');
  } finally {
    await core.close();
  }
});

test('nack with a delay redelivers after the delay; without one, the backoff schedule decides', async () => {
  const { core, clock, session, received } = await setup({ name: 'c', backoffMs: [100, 500] });
  try {
    session.publish({ subject: 'tasks.a', body: 'x' });
    await until(() => received.length === 1, 'first delivery');
    session.nack(received[0] as Delivery, { delayMs: 2_000 });
    clock.advance(1_999);
    await settle();
    assert.equal(received.length, 1);
    clock.advance(1);
    await until(() => received.length === 2, 'after the nack delay');
    session.nack(received[1] as Delivery); // attempt 2 failed: backoff[1] = 500
    clock.advance(499);
    await settle();
    assert.equal(received.length, 2);
    clock.advance(1);
    await until(() => received.length === 3, 'after backoff');
    session.nack(received[2] as Delivery); // the last entry repeats
    clock.advance(500);
    await until(() => received.length === 4, 'after repeated backoff');
    assert.deepEqual(
      received.map((delivery) => delivery.deliveryCount),
      [1, 2, 3, 4],
    );
  } finally {
    await core.close();
  }
});

test('max deliveries dead-letters to $DLQ.<stream> with headers, acks in the source, and redrive republishes', async () => {
  const { core, session, received } = await setup({ name: 'c', maxDeliver: 2 });
  try {
    session.publish({ subject: 'tasks.a', body: 'poison', headers: { trace: 't1' } });
    await until(() => received.length === 1, 'first');
    session.nack(received[0] as Delivery, { reason: 'first failure' });
    await until(() => received.length === 2, 'second');
    session.nack(received[1] as Delivery, { reason: 'parse error at byte 3' });
    await until(() => core.listStreams().some((stream) => stream.config.name === 'DLQ_tasks'), 'dlq stream');
    await until(() => core.streamInfo('DLQ_tasks').messages === 1, 'dead letter stored');
    await until(() => core.consumerInfo('tasks', 'c').ackFloors[0] === 1, 'acked in the source');
    assert.equal(core.consumerInfo('tasks', 'c').deadLettered, 1);
    await core.addConsumer('DLQ_tasks', { name: 'inspect' });
    const [dead] = await session.fetch('DLQ_tasks', 'inspect', { batch: 1, expiresMs: 0 });
    assert.ok(dead !== undefined);
    assert.equal(dead.message.subject, '$DLQ.tasks');
    assert.equal(dead.message.body.toString(), 'poison');
    const headers = dead.message.headers;
    assert.equal(headers[DeadLetterHeader.originalSubject], 'tasks.a');
    assert.equal(headers[DeadLetterHeader.stream], 'tasks');
    assert.equal(headers[DeadLetterHeader.offset], 0);
    assert.equal(headers[DeadLetterHeader.reason], 'max_deliveries');
    assert.equal(headers[DeadLetterHeader.deliveryCount], 2);
    assert.equal(headers[DeadLetterHeader.lastError], 'parse error at byte 3');
    assert.equal(headers.trace, 't1');

    const result = await core.redrive('DLQ_tasks', { offsets: [0] });
    assert.deepEqual(result, { redriven: 1, skipped: 0 });
    await until(() => received.length === 3, 'redriven message delivered again');
    const again = received[2] as Delivery;
    assert.equal(again.message.subject, 'tasks.a');
    assert.equal(again.offset, 1);
    assert.equal(again.message.headers.trace, 't1');
    assert.equal(again.message.headers[DeadLetterHeader.reason], undefined);
  } finally {
    await core.close();
  }
});

test('term dead-letters at once with reason rejected', async () => {
  const { core, session, received } = await setup({ name: 'c' });
  try {
    session.publish({ subject: 'tasks.b', body: 'bad' });
    await until(() => received.length === 1, 'delivery');
    assert.equal(session.term(received[0] as Delivery, 'schema mismatch'), 'acked');
    await until(() => core.listStreams().some((s) => s.config.name === 'DLQ_tasks'), 'dlq');
    await until(() => core.streamInfo('DLQ_tasks').messages === 1, 'stored');
    await core.addConsumer('DLQ_tasks', { name: 'inspect' });
    const [dead] = await session.fetch('DLQ_tasks', 'inspect', { batch: 1, expiresMs: 0 });
    assert.equal(dead?.message.headers[DeadLetterHeader.reason], 'rejected');
    assert.equal(dead?.message.headers[DeadLetterHeader.lastError], 'schema mismatch');
    assert.equal(dead?.message.headers[DeadLetterHeader.deliveryCount], 1);
  } finally {
    await core.close();
  }
});

test('ack policy none delivers at most once', async () => {
  const { core, clock, session, received } = await setup({ name: 'c', ackPolicy: 'none', ackWaitMs: 10 });
  try {
    session.publish({ subject: 'tasks.a', body: 'x' });
    await until(() => received.length === 1, 'delivery');
    clock.advance(1_000);
    await settle();
    assert.equal(received.length, 1);
    const info = core.consumerInfo('tasks', 'c');
    assert.equal(info.ackPending, 0);
    assert.deepEqual(info.ackFloors, [1]);
  } finally {
    await core.close();
  }
});

test('closing a session redelivers its unacked messages to another client', async () => {
  const { core, session, received } = await setup({ name: 'c' });
  try {
    session.publish({ subject: 'tasks.a', body: 'x' });
    await until(() => received.length === 1, 'delivery');
    await session.close();
    const other = core.openSession();
    const [again] = await other.fetch('tasks', 'c', { batch: 1, expiresMs: 1000 });
    assert.equal(again?.deliveryCount, 2);
  } finally {
    await core.close();
  }
});

test('a message that expired before delivery is dead-lettered with reason expired, not delivered', async () => {
  const { core, clock, session, received } = await setup({ name: 'c' });
  try {
    await session.publishConfirmed({ subject: 'tasks.a', body: 'stale', ttlMs: 1_000 });
    await until(() => received.length === 1, 'delivered while fresh');
    session.nack(received[0] as Delivery, { delayMs: 5_000 });
    clock.advance(5_000);
    await until(() => core.consumerInfo('tasks', 'c').expiredMessages === 1, 'expired at redelivery');
    await until(() => core.listStreams().some((s) => s.config.name === 'DLQ_tasks'), 'dlq');
    await until(() => core.streamInfo('DLQ_tasks').messages === 1, 'dead letter stored');
    assert.equal(received.length, 1);
    await core.addConsumer('DLQ_tasks', { name: 'inspect' });
    const [dead] = await session.fetch('DLQ_tasks', 'inspect', { batch: 1, expiresMs: 0 });
    assert.equal(dead?.message.headers[DeadLetterHeader.reason], 'expired');
  } finally {
    await core.close();
  }
});
