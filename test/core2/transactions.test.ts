import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { ErrorCode, isWeirError } from '../../src/common/errors.js';
import { Limits } from '../../src/common/limits.js';
import type { Delivery } from '../../src/core/api.js';
import { createMessage } from '../../src/core/message.js';
import { TransactionLog } from '../../src/core/transaction-log.js';
import { openFileLog } from '../../src/storage/file-log.js';
import { bodies, openCore, settle, tempDir, until } from '../core/helpers.js';

test('commit publishes to several streams and acks, all at once; nothing is visible before', async () => {
  const temp = await tempDir();
  const core = await openCore({ dataDir: temp.dir });
  try {
    await core.addStream({ name: 'in', subjects: ['in'], retention: 'workqueue' });
    await core.addStream({ name: 'out', subjects: ['out.>'] });
    await core.addConsumer('in', { name: 'processor' });
    await core.addConsumer('out', { name: 'reader' });
    const session = core.openSession();
    await session.publishConfirmed({ subject: 'in', body: 'order-1' });
    const [input] = await session.fetch('in', 'processor', { batch: 1, expiresMs: 1_000 });
    assert.ok(input !== undefined);
    const transaction = session.beginTransaction();
    transaction.publish({ subject: 'out.a', body: 'invoice-1' });
    transaction.publish({ subject: 'out.b', body: 'shipment-1' });
    transaction.ack(input);
    await settle(10);
    assert.equal(core.streamInfo('out').messages, 0, 'nothing before commit');
    assert.equal(core.consumerInfo('in', 'processor').ackPending, 1);
    const stored = await transaction.commit();
    assert.deepEqual(
      stored.map((ack) => [ack.stream, ack.offset, ack.duplicate]),
      [
        ['out', 0, false],
        ['out', 1, false],
      ],
    );
    const read = await session.fetch('out', 'reader', { batch: 10, expiresMs: 1_000 });
    assert.deepEqual(bodies(read), ['invoice-1', 'shipment-1']);
    assert.equal(core.consumerInfo('in', 'processor').ackPending, 0);
    assert.deepEqual(core.consumerInfo('in', 'processor').ackFloors, [1]);
    assert.throws(
      () => transaction.publish({ subject: 'out.a', body: 'late' }),
      (error: unknown) => isWeirError(error, ErrorCode.TransactionNotFound),
    );
  } finally {
    await core.close();
    await temp.remove();
  }
});

test('abort drops the messages and returns acked deliveries for redelivery', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    await core.addStream({ name: 'in', subjects: ['in'] });
    await core.addStream({ name: 'out', subjects: ['out'] });
    await core.addConsumer('in', { name: 'processor' });
    const session = core.openSession();
    await session.publishConfirmed({ subject: 'in', body: 'x' });
    const [input] = await session.fetch('in', 'processor', { batch: 1, expiresMs: 1_000 });
    const transaction = session.beginTransaction();
    transaction.publish({ subject: 'out', body: 'y' });
    transaction.ack(input as Delivery);
    await transaction.abort();
    assert.equal(core.streamInfo('out').messages, 0);
    const again = await session.fetch('in', 'processor', { batch: 1, expiresMs: 1_000 });
    assert.deepEqual(
      again.map((delivery) => [delivery.message.body.toString(), delivery.deliveryCount]),
      [['x', 2]],
    );
    await assert.rejects(transaction.commit(), (error: unknown) =>
      isWeirError(error, ErrorCode.TransactionAborted),
    );
  } finally {
    await core.close();
  }
});

test('a transaction times out and aborts; closing the session aborts too', async () => {
  const clock = new ManualClock();
  const core = await openCore({ storage: 'memory', clock });
  try {
    await core.addStream({ name: 'in', subjects: ['in'] });
    await core.addStream({ name: 'out', subjects: ['out'] });
    await core.addConsumer('in', { name: 'processor', ackWaitMs: 600_000 });
    const session = core.openSession();
    await session.publishConfirmed({ subject: 'in', body: 'x' });
    const [input] = await session.fetch('in', 'processor', { batch: 1, expiresMs: 1_000 });
    const transaction = session.beginTransaction({ timeoutMs: 5_000 });
    transaction.ack(input as Delivery);
    transaction.publish({ subject: 'out', body: 'y' });
    clock.advance(5_000);
    await settle();
    assert.throws(
      () => transaction.publish({ subject: 'out', body: 'z' }),
      (error: unknown) => isWeirError(error, ErrorCode.TransactionAborted) && /timed out/.test(error.message),
    );
    const [again] = await session.fetch('in', 'processor', { batch: 1, expiresMs: 1_000 });
    assert.equal(again?.deliveryCount, 2);
    const other = core.openSession();
    const orphan = other.beginTransaction();
    orphan.publish({ subject: 'out', body: 'never' });
    await other.close();
    await assert.rejects(orphan.commit(), (error: unknown) =>
      isWeirError(error, ErrorCode.TransactionAborted),
    );
    assert.equal(core.streamInfo('out').messages, 0);
  } finally {
    await core.close();
  }
});

test('a delivery redelivered before commit aborts the commit', async () => {
  const clock = new ManualClock();
  const core = await openCore({ storage: 'memory', clock });
  try {
    await core.addStream({ name: 'in', subjects: ['in'] });
    await core.addStream({ name: 'out', subjects: ['out'] });
    await core.addConsumer('in', { name: 'processor', ackWaitMs: 1_000 });
    const session = core.openSession();
    await session.publishConfirmed({ subject: 'in', body: 'x' });
    const [input] = await session.fetch('in', 'processor', { batch: 1, expiresMs: 1_000 });
    const transaction = session.beginTransaction();
    transaction.ack(input as Delivery);
    transaction.publish({ subject: 'out', body: 'y' });
    clock.advance(1_000);
    await settle();
    await assert.rejects(transaction.commit(), (error: unknown) =>
      isWeirError(error, ErrorCode.TransactionAborted),
    );
    assert.equal(core.streamInfo('out').messages, 0);
  } finally {
    await core.close();
  }
});

test('transactions are bounded, refuse delayed messages and subjects no stream captures', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    await core.addStream({ name: 'out', subjects: ['out'] });
    const transaction = core.openSession().beginTransaction();
    assert.throws(
      () => transaction.publish({ subject: 'nowhere', body: 'x' }),
      (error: unknown) => isWeirError(error, ErrorCode.NoStream),
    );
    assert.throws(
      () => transaction.publish({ subject: 'out', body: 'x', delayMs: 1_000 }),
      (error: unknown) => isWeirError(error, ErrorCode.NotSupported),
    );
    for (let index = 0; index < Limits.transactionMessagesMax; index++)
      transaction.publish({ subject: 'out', body: '' });
    assert.throws(
      () => transaction.publish({ subject: 'out', body: '' }),
      (error: unknown) => isWeirError(error, ErrorCode.LimitExceeded),
    );
    await transaction.commit();
    assert.equal(core.streamInfo('out').messages, Limits.transactionMessagesMax);
  } finally {
    await core.close();
  }
});

test('a commit found in the transaction log on open is applied, once, however often it is found', async () => {
  const temp = await tempDir();
  let core = await openCore({ dataDir: temp.dir });
  try {
    await core.addStream({ name: 'in', subjects: ['in'] });
    await core.addStream({ name: 'out', subjects: ['out'], partitions: 2 });
    await core.addConsumer('in', { name: 'processor' });
    const session = core.openSession();
    await session.publishConfirmed({ subject: 'in', body: 'x' });
    await session.publishConfirmed({ subject: 'in', body: 'y' });
    await core.close();
    // As if the broker died right after the commit point: the commit is in the log, unapplied.
    const committed = {
      id: 12_345n,
      acks: [{ stream: 'in', consumer: 'processor', partition: 0, offset: 1 }],
      messages: [0, 1, 2].map((sequence) => ({
        stream: 'out',
        partition: sequence % 2,
        sequence: Math.floor(sequence / 2),
        message: createMessage({ subject: 'out', body: `m${sequence}` }, Date.now()),
      })),
    };
    for (let round = 0; round < 2; round++) {
      const log = await openFileLog(path.join(temp.dir, 'transactions'));
      const { transactions } = await TransactionLog.open(log);
      await transactions.appendCommit(committed);
      await transactions.close();
      core = await openCore({ dataDir: temp.dir });
      assert.equal(core.streamInfo('out').messages, 3, `round ${round}: three messages, stored once`);
      assert.deepEqual(core.consumerInfo('in', 'processor').ackPending, 0);
      const fetched = await core.openSession().fetch('in', 'processor', { batch: 10, expiresMs: 100 });
      assert.deepEqual(bodies(fetched), ['x'], 'the acked input is not delivered again');
      await core.close();
    }
    core = await openCore({ dataDir: temp.dir });
    await until(() => core.streamInfo('out').messages === 3, 'still three');
  } finally {
    await core.close();
    await temp.remove();
  }
});

test('a committed transaction a full stream refuses is appended once the stream has room', async () => {
  const clock = new ManualClock();
  const core = await openCore({ storage: 'memory', clock });
  try {
    await core.addStream({ name: 'in', subjects: ['in'] });
    await core.addStream({ name: 'out', subjects: ['out'], maxMessages: 1, discard: 'new' });
    await core.addConsumer('in', { name: 'processor', ackWaitMs: 600_000 });
    const session = core.openSession();
    await session.publishConfirmed({ subject: 'out', body: 'occupant' });
    await session.publishConfirmed({ subject: 'in', body: 'x' });
    const [input] = await session.fetch('in', 'processor', { batch: 1, expiresMs: 1_000 });
    const transaction = session.beginTransaction();
    transaction.publish({ subject: 'out', body: 'result' });
    transaction.ack(input as Delivery);
    await assert.rejects(transaction.commit(), (error: unknown) => {
      assert.ok(isWeirError(error, ErrorCode.Overloaded));
      assert.match(error.message, /is committed/);
      return true;
    });
    assert.equal(core.consumerInfo('in', 'processor').ackPending, 0, 'the input is consumed: committed');
    await core.updateStream({ name: 'out', subjects: ['out'], maxMessages: 10 });
    clock.advance(1_000);
    await until(() => core.streamInfo('out').messages === 2, 'the result appended on retry');
  } finally {
    await core.close();
  }
});
