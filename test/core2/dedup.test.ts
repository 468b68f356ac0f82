import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { ErrorCode, isWeirError } from '../../src/common/errors.js';
import { openCore, tempDir } from '../core/helpers.js';

test('an idempotent producer retry is confirmed with the original offset, across restarts', async () => {
  const temp = await tempDir();
  let core = await openCore({ dataDir: temp.dir });
  try {
    await core.addStream({ name: 'orders', subjects: ['orders'] });
    let session = core.openSession();
    const { producerId, epoch } = await session.initProducer();
    const stamp = (sequence: number) => ({ id: producerId, epoch, sequence });
    const first = await session.publishConfirmed({ subject: 'orders', body: 'a', producer: stamp(0) });
    const second = await session.publishConfirmed({ subject: 'orders', body: 'b', producer: stamp(1) });
    assert.deepEqual([first.offset, first.duplicate, second.offset], [0, false, 1]);
    const retry = await session.publishConfirmed({ subject: 'orders', body: 'a', producer: stamp(0) });
    assert.deepEqual(retry, { stream: 'orders', partition: 0, offset: 0, duplicate: true });
    // A retry racing its original: both confirmed with one offset, stored once.
    const [original, racing] = await Promise.all([
      session.publishConfirmed({ subject: 'orders', body: 'c', producer: stamp(2) }),
      session.publishConfirmed({ subject: 'orders', body: 'c', producer: stamp(2) }),
    ]);
    assert.deepEqual(
      [original.offset, original.duplicate, racing.offset, racing.duplicate],
      [2, false, 2, true],
    );
    await assert.rejects(
      session.publishConfirmed({ subject: 'orders', body: 'gap', producer: stamp(9) }),
      (error: unknown) => isWeirError(error, ErrorCode.InvalidArgument),
    );
    assert.equal(core.streamInfo('orders').messages, 3);
    assert.equal(core.streamInfo('orders').duplicates, 2);

    // Clean restart: the snapshot is used.
    await core.close();
    core = await openCore({ dataDir: temp.dir });
    session = core.openSession();
    const afterRestart = await session.publishConfirmed({ subject: 'orders', body: 'b', producer: stamp(1) });
    assert.deepEqual([afterRestart.offset, afterRestart.duplicate], [1, true]);

    // As after a crash: no snapshot, the table is rebuilt from the batches.
    await core.close();
    const snapshots = (await fs.readdir(path.join(temp.dir, 'streams', 'orders'))).filter((name) =>
      name.startsWith('producers-'),
    );
    assert.deepEqual(snapshots, ['producers-0.json']);
    await fs.rm(path.join(temp.dir, 'streams', 'orders', 'producers-0.json'));
    core = await openCore({ dataDir: temp.dir });
    session = core.openSession();
    const rebuilt = await session.publishConfirmed({ subject: 'orders', body: 'c', producer: stamp(2) });
    assert.deepEqual([rebuilt.offset, rebuilt.duplicate], [2, true]);
    const next = await session.publishConfirmed({ subject: 'orders', body: 'd', producer: stamp(3) });
    assert.deepEqual([next.offset, next.duplicate], [3, false]);
    assert.equal(core.streamInfo('orders').messages, 4);
  } finally {
    await core.close();
    await temp.remove();
  }
});

test('a named producer re-initialised fences its previous instance, across restarts', async () => {
  const temp = await tempDir();
  let core = await openCore({ dataDir: temp.dir });
  try {
    await core.addStream({ name: 'orders', subjects: ['orders'] });
    const session = core.openSession();
    const old = await session.initProducer({ name: 'billing' });
    await session.publishConfirmed({
      subject: 'orders',
      body: 'a',
      producer: { id: old.producerId, epoch: old.epoch, sequence: 0 },
    });
    const current = await session.initProducer({ name: 'billing' });
    assert.equal(current.producerId, old.producerId);
    assert.equal(current.epoch, old.epoch + 1);
    await assert.rejects(
      session.publishConfirmed({
        subject: 'orders',
        body: 'b',
        producer: { id: old.producerId, epoch: old.epoch, sequence: 1 },
      }),
      (error: unknown) => isWeirError(error, ErrorCode.ProducerFenced),
    );
    await core.close();
    core = await openCore({ dataDir: temp.dir });
    const again = await core.openSession().initProducer({ name: 'billing' });
    assert.deepEqual(again, { producerId: old.producerId, epoch: old.epoch + 2 });
    await assert.rejects(
      core.openSession().publishConfirmed({
        subject: 'orders',
        body: 'c',
        producer: { id: current.producerId, epoch: current.epoch, sequence: 0 },
      }),
      (error: unknown) => isWeirError(error, ErrorCode.ProducerFenced),
    );
  } finally {
    await core.close();
    await temp.remove();
  }
});

test('the message-id window confirms repeats within its duration and is rebuilt on restart', async () => {
  const temp = await tempDir();
  const clock = new ManualClock();
  let core = await openCore({ dataDir: temp.dir, clock });
  try {
    await core.addStream({ name: 'mqtt', subjects: ['sensors.>'], dedupWindowMs: 60_000, partitions: 2 });
    let session = core.openSession();
    const first = await session.publishConfirmed({ subject: 'sensors.a', body: '1', id: 'm-1', key: 'x' });
    const repeat = await session.publishConfirmed({ subject: 'sensors.a', body: '1', id: 'm-1', key: 'x' });
    assert.deepEqual(repeat, { ...first, duplicate: true });
    await session.publishConfirmed({ subject: 'sensors.b', body: '2', id: 'm-2', key: 'y' });
    await core.close();
    clock.advance(30_000);
    core = await openCore({ dataDir: temp.dir, clock });
    session = core.openSession();
    const afterRestart = await session.publishConfirmed({
      subject: 'sensors.b',
      body: '2',
      id: 'm-2',
      key: 'y',
    });
    assert.equal(afterRestart.duplicate, true);
    clock.advance(31_000);
    const outside = await session.publishConfirmed({ subject: 'sensors.a', body: '1', id: 'm-1', key: 'x' });
    assert.equal(outside.duplicate, false, 'outside the window the id is new again');
    assert.equal(core.streamInfo('mqtt').messages, 3);
  } finally {
    await core.close();
    await temp.remove();
  }
});
