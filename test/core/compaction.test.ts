// `retention: compact` streams: the option is checked and persisted, the stream's clock runs
// compaction by key (message key, else subject; an empty body deletes), consumers read the
// latest message per key and their ack floors move over the offsets compaction removed.

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { ErrorCode, isWeirError } from '../../src/common/errors.js';
import type { Delivery } from '../../src/core/api.js';
import { openCore, tempDir, until } from './helpers.js';

test('compact streams: options are checked; compaction settings need retention compact', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    const refused = (promise: Promise<unknown>) =>
      assert.rejects(promise, (error: unknown) => isWeirError(error, ErrorCode.InvalidArgument));
    await refused(
      core.addStream({ name: 'a', subjects: ['a'], retention: 'compact', compactionDirtyRatio: 2 }),
    );
    await refused(
      core.addStream({ name: 'a', subjects: ['a'], retention: 'compact', tombstoneRetentionMs: -1 }),
    );
    await refused(
      core.addStream({ name: 'a', subjects: ['a'], retention: 'compact', compactionIntervalMs: 1 }),
    );
    await refused(core.addStream({ name: 'a', subjects: ['a'], tombstoneRetentionMs: 1000 }));
    await refused(core.addStream({ name: 'a', subjects: ['a'], retention: 'compact', maxMessages: 10 }));
    const info = await core.addStream({ name: 'a', subjects: ['a'], retention: 'compact' });
    assert.equal(info.config.retention, 'compact');
    assert.equal(info.config.tombstoneRetentionMs, 86_400_000);
    assert.equal(info.config.compactionDirtyRatio, 0.5);
    assert.equal(info.config.compactionIntervalMs, 30_000);
  } finally {
    await core.close();
  }
});

test('compact streams keep the latest message per key on the clock, and keep it across a restart', async () => {
  const temp = await tempDir();
  const clock = new ManualClock(1_000_000);
  let core = await openCore({ dataDir: temp.dir, segmentBytesMax: 2048, clock });
  try {
    await core.addStream({
      name: 'state',
      subjects: ['state.>'],
      retention: 'compact',
      compactionIntervalMs: 1_000,
      tombstoneRetentionMs: 60_000,
      fsync: { kind: 'never' },
    });
    const session = core.openSession();
    // Kept at offset 0, so compaction leaves a gap after it.
    await session.publishConfirmed({ subject: 'state.keyed', key: 'first', body: 'first' });
    for (let index = 0; index < 300; index++) {
      // Keys k0 … k4, and subject `state.plain` with no key: compacted by subject.
      const keyed = index % 6 < 5;
      await session.publishConfirmed({
        subject: keyed ? 'state.keyed' : 'state.plain',
        ...(keyed ? { key: `k${index % 6}` } : {}),
        body: `${index}-${'.'.repeat(80)}`,
      });
    }
    await session.publishConfirmed({ subject: 'state.keyed', key: 'k4', body: Buffer.alloc(0) });
    const bytesBefore = core.streamInfo('state').bytes;
    clock.advance(1_000);
    await until(() => core.streamInfo('state').bytes < bytesBefore / 2, 'compaction shrank the stream');

    const readLatest = async (): Promise<Map<string, string>> => {
      const name = `reader-${Math.random().toString(36).slice(2)}`;
      await core.addConsumer('state', { name, deliverPolicy: { kind: 'all' }, ackPolicy: 'explicit' });
      const reader = core.openSession();
      const received: Delivery[] = [];
      for (;;) {
        const batch = await reader.fetch('state', name, { batch: 500, expiresMs: 0 });
        if (batch.length === 0) break;
        for (const delivery of batch) {
          received.push(delivery);
          reader.ack(delivery);
        }
      }
      assert.ok(received.length < 100, `compaction removed most messages (${received.length} read)`);
      const end = core.streamInfo('state').partitions[0]!.nextOffset;
      await until(
        () => core.consumerInfo('state', name).ackFloors[0] === end,
        'the ack floor passed the gaps compaction left',
        5_000,
      );
      const latest = new Map<string, string>();
      for (const delivery of received) {
        latest.set(delivery.message.key ?? delivery.message.subject, delivery.message.body.toString());
      }
      await reader.close();
      return latest;
    };
    const expected = new Map([
      ['first', 'first'],
      ['k0', '294'],
      ['k1', '295'],
      ['k2', '296'],
      ['k3', '297'],
      ['k4', ''],
      ['state.plain', '299'],
    ]);
    const firstPart = (latest: Map<string, string>) =>
      new Map([...latest].map(([key, body]) => [key, body.split('-')[0]!]));
    assert.deepEqual(firstPart(await readLatest()), expected);

    await core.close();
    core = await openCore({ dataDir: temp.dir, segmentBytesMax: 2048, clock });
    const info = core.streamInfo('state');
    assert.equal(info.config.retention, 'compact');
    assert.equal(info.config.tombstoneRetentionMs, 60_000);
    assert.deepEqual(firstPart(await readLatest()), expected);
  } finally {
    await core.close();
    await temp.remove();
  }
});

/** Every message of a stream, read once through a new consumer from the start. */
async function readAll(core: Awaited<ReturnType<typeof openCore>>, stream: string): Promise<Delivery[]> {
  const name = `all-${Math.random().toString(36).slice(2)}`;
  await core.addConsumer(stream, { name, deliverPolicy: { kind: 'all' }, ackPolicy: 'none' });
  const reader = core.openSession();
  const received: Delivery[] = [];
  try {
    for (;;) {
      const batch = await reader.fetch(stream, name, { batch: 500, expiresMs: 0 });
      if (batch.length === 0) break;
      received.push(...batch);
    }
  } finally {
    await reader.close();
    await core.deleteConsumer(stream, name);
  }
  return received;
}

test('a partitioned compact stream keeps one message per subject for messages without a key', async () => {
  const temp = await tempDir();
  const clock = new ManualClock(1_000_000);
  const core = await openCore({ dataDir: temp.dir, segmentBytesMax: 2048, clock });
  try {
    await core.addStream({
      name: 'state',
      subjects: ['state.>'],
      retention: 'compact',
      partitions: 2,
      compactionIntervalMs: 1_000,
      fsync: { kind: 'never' },
    });
    const session = core.openSession();
    // Four values of one subject and then its deletion, all without a key.
    for (const body of ['v0', 'v1', 'v2', 'v3', '']) {
      await session.publishConfirmed({ subject: 'state.x', body });
    }
    // Other subjects, enough to seal the segments holding state.x in every partition.
    for (let index = 0; index < 200; index++) {
      await session.publishConfirmed({ subject: `state.f${index}`, body: `${index}-${'.'.repeat(80)}` });
    }
    clock.advance(1_000);
    await until(() => core.streamInfo('state').compactions === 2, 'both partitions compacted');
    await session.close();
    const left = (await readAll(core, 'state'))
      .filter((delivery) => delivery.message.subject === 'state.x')
      .map((delivery) => delivery.message.body.toString());
    // The deletion removed every earlier value of the subject, whatever partition it was in.
    assert.deepEqual(left, ['']);
  } finally {
    await core.close();
    await temp.remove();
  }
});

test('a compact stream keeps messages inside its dedup window, so a retry after a restart is still a duplicate', async () => {
  const temp = await tempDir();
  const clock = new ManualClock(1_000_000);
  const options = { dataDir: temp.dir, segmentBytesMax: 2048, clock };
  let core = await openCore(options);
  try {
    await core.addStream({
      name: 'state',
      subjects: ['state.>'],
      retention: 'compact',
      compactionIntervalMs: 1_000,
      dedupWindowMs: 60_000,
      fsync: { kind: 'never' },
    });
    let session = core.openSession();
    await session.publishConfirmed({ id: 'm-old', subject: 'state.a', body: 'old' });
    await session.publishConfirmed({ id: 'm-new', subject: 'state.a', body: 'new' });
    for (let index = 0; index < 100; index++) {
      await session.publishConfirmed({ subject: `state.f${index}`, body: `${index}-${'.'.repeat(80)}` });
    }
    clock.advance(1_000);
    await until(() => core.streamInfo('state').compactions === 1, 'compaction ran');
    await session.close();
    await core.close();

    core = await openCore(options);
    session = core.openSession();
    // The publisher of 'old' never saw its confirm and retries, still inside the window.
    const retry = await session.publishConfirmed({ id: 'm-old', subject: 'state.a', body: 'old' });
    assert.equal(retry.duplicate, true);
    await session.close();
    const values = (await readAll(core, 'state'))
      .filter((delivery) => delivery.message.subject === 'state.a')
      .map((delivery) => delivery.message.body.toString());
    assert.equal(values.at(-1), 'new');
  } finally {
    await core.close();
    await temp.remove();
  }
});

test('an idempotent producer goes on after compaction removed its last batch and the broker crashed', async () => {
  const temp = await tempDir();
  const copy = await tempDir();
  const clock = new ManualClock(1_000_000);
  const core = await openCore({ dataDir: temp.dir, segmentBytesMax: 2048, clock });
  let recovered: Awaited<ReturnType<typeof openCore>> | undefined;
  try {
    await core.addStream({
      name: 'state',
      subjects: ['state.>'],
      retention: 'compact',
      compactionIntervalMs: 1_000,
      fsync: { kind: 'always' },
    });
    const session = core.openSession();
    const { producerId, epoch } = await session.initProducer();
    const stamp = (sequence: number) => ({ id: producerId, epoch, sequence });
    await session.publishConfirmed({ subject: 'state.a', key: 'a', body: 'p0', producer: stamp(0) });
    await session.publishConfirmed({ subject: 'state.b', key: 'b', body: 'p1', producer: stamp(1) });
    // Another publisher supersedes key b: the producer's last batch goes at the next run.
    await session.publishConfirmed({ subject: 'state.b', key: 'b', body: 'other' });
    for (let index = 0; index < 100; index++) {
      await session.publishConfirmed({ subject: `state.f${index}`, body: `${index}-${'.'.repeat(80)}` });
    }
    clock.advance(1_000);
    await until(() => core.streamInfo('state').compactions === 1, 'compaction ran');
    await session.close();
    // What a kill -9 now would leave on disk: the files as they are, no clean close.
    await fs.cp(temp.dir, copy.dir, {
      recursive: true,
      filter: (source) => path.basename(source) !== 'LOCK',
    });

    recovered = await openCore({ dataDir: copy.dir, segmentBytesMax: 2048, clock });
    const again = recovered.openSession();
    // A retry of sequence 1 (its confirm lost) is a duplicate, not a new value of key b.
    const retry = await again.publishConfirmed({
      subject: 'state.b',
      key: 'b',
      body: 'p1',
      producer: stamp(1),
    });
    assert.equal(retry.duplicate, true);
    // The next sequence is accepted.
    const next = await again.publishConfirmed({
      subject: 'state.c',
      key: 'c',
      body: 'p2',
      producer: stamp(2),
    });
    assert.equal(next.duplicate, false);
    await again.close();
  } finally {
    await recovered?.close();
    await core.close();
    await temp.remove();
    await copy.remove();
  }
});

test('a filtered consumer matched at publish time settles the offsets compaction removed', async () => {
  const temp = await tempDir();
  const clock = new ManualClock(1_000_000);
  const core = await openCore({ dataDir: temp.dir, segmentBytesMax: 2048, clock });
  try {
    await core.addStream({
      name: 'state',
      subjects: ['state.>'],
      retention: 'compact',
      compactionIntervalMs: 1_000,
      fsync: { kind: 'never' },
    });
    await core.addConsumer('state', {
      name: 'only-a',
      filterSubject: 'state.a',
      deliverPolicy: { kind: 'all' },
      ackPolicy: 'explicit',
    });
    const session = core.openSession();
    for (let index = 0; index < 100; index++) {
      await session.publishConfirmed({
        subject: index % 2 === 0 ? 'state.a' : `state.f${index}`,
        ...(index % 2 === 0 ? { key: `a${index % 6}` } : {}),
        body: `${index}-${'.'.repeat(80)}`,
      });
    }
    clock.advance(1_000);
    await until(() => core.streamInfo('state').compactions === 1, 'compaction ran');
    const received: string[] = [];
    for (;;) {
      const batch = await session.fetch('state', 'only-a', { batch: 500, expiresMs: 0 });
      if (batch.length === 0) break;
      for (const delivery of batch) {
        received.push(`${delivery.message.key}=${delivery.message.body.toString().split('-')[0]}`);
        session.ack(delivery);
      }
    }
    // Keys a0, a2, a4: their latest values, whatever else the active segment still holds.
    for (const latest of ['a0=96', 'a2=98', 'a4=94']) assert.ok(received.includes(latest), latest);
    assert.ok(received.length < 50, `compaction removed most of them (${received.length} read)`);
    const end = core.streamInfo('state').partitions[0]!.nextOffset;
    await until(
      () => core.consumerInfo('state', 'only-a').ackFloors[0] === end,
      'the ack floor reached the end',
    );
    await session.close();
  } finally {
    await core.close();
    await temp.remove();
  }
});
