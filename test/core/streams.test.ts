// Stream administration, limits, discard policies, partitions, retention by interest and workqueue.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { isWeirError } from '../../src/common/errors.js';
import type { Delivery } from '../../src/core/api.js';
import { partitionForKey } from '../../src/core/partition-hash.js';
import { openCore, settle, tempDir, until } from './helpers.js';

test('stream admin: add is idempotent, overlapping subjects are refused, update and delete', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    const info = await core.addStream({ name: 'orders', subjects: ['orders.>'] });
    assert.equal(info.config.retention, 'limits');
    assert.equal(info.config.deadLetterSubject, '$DLQ.orders');
    await core.addStream({ name: 'orders', subjects: ['orders.>'] });
    await assert.rejects(core.addStream({ name: 'orders', subjects: ['other'] }), (e) =>
      isWeirError(e, 'WEIR_STREAM_EXISTS'),
    );
    await assert.rejects(core.addStream({ name: 'eu', subjects: ['*.eu'] }), /overlaps/);
    await assert.rejects(core.addStream({ name: 'bad name', subjects: ['x'] }), (e) =>
      isWeirError(e, 'WEIR_INVALID_ARGUMENT'),
    );
    await assert.rejects(core.addStream({ name: 'x', subjects: ['a..b'] }), (e) =>
      isWeirError(e, 'WEIR_INVALID_SUBJECT'),
    );
    const updated = await core.updateStream({
      name: 'orders',
      subjects: ['orders.>', 'returns.>'],
      maxMessages: 10,
    });
    assert.deepEqual(updated.config.subjects, ['orders.>', 'returns.>']);
    await assert.rejects(
      core.updateStream({ name: 'orders', subjects: ['orders.>'], partitions: 2 }),
      /cannot change/,
    );
    const session = core.openSession();
    const ack = await session.publishConfirmed({ subject: 'returns.1', body: 'r' });
    assert.equal(ack.stream, 'orders');
    assert.equal(core.listStreams().length, 1);
    assert.equal(await core.deleteStream('orders'), true);
    assert.equal(await core.deleteStream('orders'), false);
    await assert.rejects(session.publishConfirmed({ subject: 'returns.1', body: 'r' }), (e) =>
      isWeirError(e, 'WEIR_NO_STREAM'),
    );
  } finally {
    await core.close();
  }
});

test('discard new: a publisher over the limit gets WEIR_STREAM_FULL, confirmed or not', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    await core.addStream({ name: 's', subjects: ['s'], maxMessages: 2, discard: 'new' });
    const session = core.openSession();
    await session.publishConfirmed({ subject: 's', body: '1' });
    await session.publishConfirmed({ subject: 's', body: '2' });
    await assert.rejects(session.publishConfirmed({ subject: 's', body: '3' }), (e) =>
      isWeirError(e, 'WEIR_STREAM_FULL'),
    );
    assert.throws(
      () => session.publish({ subject: 's', body: '3' }),
      (e) => isWeirError(e, 'WEIR_STREAM_FULL'),
    );
    assert.equal(core.streamInfo('s').rejectedFull, 2);
    assert.equal(core.streamInfo('s').messages, 2);
  } finally {
    await core.close();
  }
});

test('discard new by bytes', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    await core.addStream({ name: 's', subjects: ['s'], maxBytes: 1000, discard: 'new' });
    const session = core.openSession();
    await session.publishConfirmed({ subject: 's', body: Buffer.alloc(600) });
    await assert.rejects(session.publishConfirmed({ subject: 's', body: Buffer.alloc(600) }), (e) =>
      isWeirError(e, 'WEIR_STREAM_FULL'),
    );
  } finally {
    await core.close();
  }
});

test('discard old keeps the newest max messages; consumers skip what was dropped', async () => {
  const temp = await tempDir();
  const core = await openCore({ dataDir: temp.dir, segmentBytesMax: 4096 });
  try {
    await core.addStream({ name: 's', subjects: ['s'], maxMessages: 5, fsync: { kind: 'never' } });
    await core.addConsumer('s', { name: 'c' });
    const session = core.openSession();
    for (let index = 0; index < 200; index++)
      await session.publishConfirmed({ subject: 's', body: `m${index}` });
    const info = core.streamInfo('s');
    assert.equal(info.messages, 5);
    assert.equal(info.partitions[0]?.firstOffset, 195);
    const fetched = await session.fetch('s', 'c', { batch: 10, expiresMs: 0 });
    assert.deepEqual(
      fetched.map((d) => d.message.body.toString()),
      ['m195', 'm196', 'm197', 'm198', 'm199'],
    );
    await until(() => core.streamInfo('s').bytes < 8192, 'whole segments reclaimed');
  } finally {
    await core.close();
    await temp.remove();
  }
});

test('max age drops messages older than the limit, by the injected clock', async () => {
  const clock = new ManualClock();
  const core = await openCore({ storage: 'memory', clock });
  try {
    await core.addStream({ name: 's', subjects: ['s'], maxAgeMs: 60_000 });
    const session = core.openSession();
    await session.publishConfirmed({ subject: 's', body: 'old' });
    clock.advance(30_000);
    await session.publishConfirmed({ subject: 's', body: 'new' });
    clock.advance(30_001);
    // The age check runs every second (at most): the old message is gone by the next one.
    clock.advance(1_000);
    await until(() => core.streamInfo('s').messages === 1, 'old one expired');
    await core.addConsumer('s', { name: 'c' });
    const fetched = await session.fetch('s', 'c', { batch: 10, expiresMs: 0 });
    assert.deepEqual(
      fetched.map((d) => d.message.body.toString()),
      ['new'],
    );
  } finally {
    await core.close();
  }
});

test('partitions: a key always lands in the partition its documented hash names', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    await core.addStream({ name: 'p', subjects: ['p.>'], partitions: 4 });
    const session = core.openSession();
    for (const key of ['alpha', 'beta', 'gamma', 'delta', 'epsilon']) {
      const first = await session.publishConfirmed({ subject: 'p.x', key, body: '1' });
      const second = await session.publishConfirmed({ subject: 'p.y', key, body: '2' });
      assert.equal(first.partition, partitionForKey(key, 4));
      assert.equal(second.partition, first.partition);
    }
    await core.addConsumer('p', { name: 'c' });
    const all = await session.fetch('p', 'c', { batch: 100, expiresMs: 0 });
    const more = await session.fetch('p', 'c', { batch: 100, expiresMs: 0 });
    assert.equal(all.length + more.length, 10, 'a consumer reads every partition');
  } finally {
    await core.close();
  }
});

test('a queue whose consumer keeps up does not roll its log on every ack', async () => {
  const temp = await tempDir();
  const core = await openCore({ dataDir: temp.dir });
  try {
    await core.addStream({ name: 'q', subjects: ['q'], retention: 'workqueue', fsync: { kind: 'never' } });
    await core.addConsumer('q', { name: 'q', dispatch: 'shared' });
    const session = core.openSession();
    for (let round = 0; round < 50; round++) {
      await session.publishConfirmed({ subject: 'q', body: `m${round}` });
      const [delivery] = await session.fetch('q', 'q', { batch: 1, expiresMs: 1_000 });
      assert.equal(delivery?.message.body.toString(), `m${round}`);
      session.ack(delivery as Delivery);
      await until(() => core.streamInfo('q').messages === 0, 'acked message deleted');
    }
    await settle();
    assert.equal(core.streamInfo('q').partitions[0]?.segments, 1);
    // The first segment is still the active one: no ack forced a roll.
    const partitionDir = path.join(temp.dir, 'streams', 'q', 'partitions', '0');
    assert.deepEqual(
      (await readdir(partitionDir)).filter((name) => name.endsWith('.log')),
      ['00000000000000000000.log'],
    );
  } finally {
    await core.close();
    await temp.remove();
  }
});

test('workqueue retention deletes what the consumer acked; segments are reclaimed', async () => {
  const temp = await tempDir();
  const core = await openCore({ dataDir: temp.dir, segmentBytesMax: 2048 });
  try {
    await core.addStream({ name: 'q', subjects: ['q'], retention: 'workqueue', fsync: { kind: 'never' } });
    const session = core.openSession();
    // One confirmed publish at a time, so the messages span many batches and segments.
    for (let index = 0; index < 100; index++)
      await session.publishConfirmed({ subject: 'q', body: Buffer.alloc(100) });
    await until(() => core.streamInfo('q').messages === 100, 'stored while no consumer exists');
    const sizeBefore = core.streamInfo('q').bytes;
    await core.addConsumer('q', { name: 'q', dispatch: 'shared' });
    const received: Delivery[] = [];
    session.attach('q', 'q', { credit: 1000, onDelivery: (d) => received.push(d) });
    await until(() => received.length === 100, 'all delivered');
    for (const delivery of received.slice(0, 90)) session.ack(delivery);
    await until(() => core.streamInfo('q').messages === 10, 'acked ones deleted');
    await until(() => core.streamInfo('q').bytes < sizeBefore / 2, 'segments reclaimed');
  } finally {
    await core.close();
    await temp.remove();
  }
});

test('interest retention keeps a message until every consumer acked it, and nothing without consumers', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    await core.addStream({ name: 't', subjects: ['t.>'], retention: 'interest' });
    const session = core.openSession();
    await session.publishConfirmed({ subject: 't.a', body: 'nobody listens' });
    await settle();
    assert.equal(core.streamInfo('t').messages, 0);
    await core.addConsumer('t', { name: 'a' });
    await core.addConsumer('t', { name: 'b' });
    await session.publishConfirmed({ subject: 't.a', body: 'both' });
    const [fromA] = await session.fetch('t', 'a', { batch: 1, expiresMs: 0 });
    session.ack(fromA as Delivery);
    await settle();
    assert.equal(core.streamInfo('t').messages, 1, 'b has not acked');
    const [fromB] = await session.fetch('t', 'b', { batch: 1, expiresMs: 0 });
    session.ack(fromB as Delivery);
    await until(() => core.streamInfo('t').messages === 0, 'deleted once both acked');
  } finally {
    await core.close();
  }
});

test('delayed publish to a stream waits in its delay index (core II: test/core2/delayed-delivery.test.ts)', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    await core.addStream({ name: 's', subjects: ['s'] });
    const session = core.openSession();
    session.publish({ subject: 's', body: 'x', delayMs: 1000 });
    await until(() => core.streamInfo('s').delayed === 1, 'the delayed message is held');
    assert.equal(core.streamInfo('s').messages, 0);
  } finally {
    await core.close();
  }
});
