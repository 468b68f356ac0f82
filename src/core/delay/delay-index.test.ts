import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ManualClock } from '../../common/clock.js';
import { ErrorCode, isWeirError } from '../../common/errors.js';
import { Limits } from '../../common/limits.js';
import { DelayIndex, type DelayEntry } from './delay-index.js';
import { cascadeAtMs, levelFor, levelWidthsMs, bucketStartMs, levelCount } from './delay-levels.js';
import { fileDelayStore } from './delay-store.js';
import { advance, durableMemoryStore, settle, type DurableMemoryStore } from './delay-test-support.js';

interface Released {
  readonly id: number;
  readonly dueMs: number;
  readonly partition: number;
  readonly body: string;
  readonly atMs: number;
}

async function openIndex(
  clock: ManualClock,
  store: DurableMemoryStore,
  released: Released[],
  fail?: () => boolean,
): Promise<DelayIndex> {
  return DelayIndex.open({
    store,
    clock,
    retryMs: 500,
    release: (entries: readonly DelayEntry[]) => {
      if (fail?.() === true) return Promise.reject(new Error('stream unavailable'));
      for (const entry of entries) {
        released.push({
          id: entry.id,
          dueMs: entry.dueMs,
          partition: entry.partition,
          body: entry.value.toString(),
          atMs: clock.nowMs(),
        });
      }
      return Promise.resolve();
    },
  });
}

describe('delay levels', () => {
  test('an entry is inserted before its bucket cascades, and cascades to a finer level', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 0, max: Limits.delayMsMax }),
        (nowMs, distanceMs) => {
          const dueMs = nowMs + distanceMs;
          const level = levelFor(dueMs, nowMs);
          if (level === 0) return;
          const startMs = bucketStartMs(level, dueMs);
          const cascadeMs = cascadeAtMs(level, startMs);
          assert.ok(nowMs < cascadeMs, 'inserted before the cascade');
          assert.ok(levelFor(dueMs, cascadeMs) < level, 'the cascade moves it finer');
        },
      ),
    );
    assert.equal(levelCount, levelWidthsMs.length);
  });
});

describe('delay index', () => {
  test('releases each entry at its due time, in due order, not before', async () => {
    const clock = new ManualClock();
    const store = durableMemoryStore();
    const released: Released[] = [];
    const index = await openIndex(clock, store, released);
    const start = clock.nowMs();
    await index.schedule(start + 3_000, 0, Buffer.from('c'));
    await index.schedule(start + 1_000, 1, Buffer.from('a'));
    await index.schedule(start + 2_000, 0, Buffer.from('b1'));
    await index.schedule(start + 2_000, 0, Buffer.from('b2'));
    assert.equal(index.pendingCount, 4);
    await advance(clock, index, 999, 100);
    assert.equal(released.length, 0);
    await advance(clock, index, 1, 1);
    assert.deepEqual(
      released.map((entry) => [entry.body, entry.partition, entry.atMs - start]),
      [['a', 1, 1_000]],
    );
    await advance(clock, index, 2_000, 100);
    assert.deepEqual(
      released.map((entry) => [entry.body, entry.atMs - start]),
      [
        ['a', 1_000],
        ['b1', 2_000],
        ['b2', 2_000],
        ['c', 3_000],
      ],
    );
    assert.equal(index.pendingCount, 0);
    await advance(clock, index, 2_000);
    assert.equal(index.bucketCount, 0, 'released buckets are deleted');
    assert.equal(store.logs.size, 0);
    await index.close();
  });

  test('a due time in the past is released at once', async () => {
    const clock = new ManualClock();
    const released: Released[] = [];
    const index = await openIndex(clock, durableMemoryStore(), released);
    await index.schedule(clock.nowMs() - 5_000, 0, Buffer.from('late'));
    await settle(clock, index);
    assert.deepEqual(
      released.map((entry) => entry.body),
      ['late'],
    );
    await index.close();
  });

  test('far delays stay on disk in a few buckets, cascade, and arrive on time', async () => {
    const clock = new ManualClock();
    const store = durableMemoryStore();
    const released: Released[] = [];
    const index = await openIndex(clock, store, released);
    const start = clock.nowMs();
    const yearMs = 365 * 86_400_000;
    for (let count = 0; count < 1_000; count++) {
      await index.schedule(start + 99 * yearMs + count * 7_777, 0, Buffer.from(String(count)));
    }
    await index.schedule(start + Limits.delayMsMax, 0, Buffer.from('last'));
    assert.equal(index.pendingCount, 1_001);
    assert.equal(index.memoryEntries, 0, 'nothing far away is in memory');
    assert.ok(index.bucketCount <= 3, `few buckets, got ${index.bucketCount}`);
    // Jump to just before the first is due: every cascade happens on the way.
    await advance(clock, index, 99 * yearMs - 10_000, 30 * 86_400_000);
    await advance(clock, index, 8_000, 500);
    assert.equal(released.length, 0);
    assert.ok(index.memoryEntries <= 1, 'only the next second or so is in memory');
    await advance(clock, index, 1_000 * 7_777 + 5_000, 500);
    assert.equal(released.length, 1_000);
    for (const entry of released) assert.ok(entry.atMs >= entry.dueMs && entry.atMs - entry.dueMs <= 500);
    assert.deepEqual(
      released.map((entry) => entry.body),
      Array.from({ length: 1_000 }, (_, count) => String(count)),
    );
    assert.equal(index.pendingCount, 1);
    await index.close();
  });

  test('rejects delays beyond 100 years', async () => {
    const clock = new ManualClock();
    const index = await openIndex(clock, durableMemoryStore(), []);
    await assert.rejects(
      index.schedule(clock.nowMs() + Limits.delayMsMax + 1, 0, Buffer.from('x')),
      (error: unknown) => isWeirError(error, ErrorCode.InvalidArgument),
    );
    await index.close();
  });

  test('a failed release is retried later, not lost', async () => {
    const clock = new ManualClock();
    const released: Released[] = [];
    let failing = true;
    const index = await openIndex(clock, durableMemoryStore(), released, () => failing);
    await index.schedule(clock.nowMs() + 1_000, 0, Buffer.from('x'));
    await advance(clock, index, 1_200, 100);
    assert.equal(released.length, 0);
    failing = false;
    await advance(clock, index, 500, 100);
    assert.equal(released.length, 1);
    assert.equal(index.pendingCount, 0);
    await index.close();
  });

  test('reopening keeps pending entries and does not release released ones again', async () => {
    const clock = new ManualClock();
    const store = durableMemoryStore();
    const released: Released[] = [];
    let index = await openIndex(clock, store, released);
    const start = clock.nowMs();
    await index.schedule(start + 500, 0, Buffer.from('soon'));
    await index.schedule(start + 90_000, 0, Buffer.from('minutes'));
    await index.schedule(start + 2 * 86_400_000, 0, Buffer.from('days'));
    await advance(clock, index, 1_000);
    assert.deepEqual(
      released.map((entry) => entry.body),
      ['soon'],
    );
    await index.close();
    // Down for three days: everything overdue comes out on reopening.
    clock.advance(3 * 86_400_000);
    index = await openIndex(clock, store, released);
    assert.equal(index.pendingCount, 2);
    await settle(clock, index);
    assert.deepEqual(
      released.map((entry) => entry.body),
      ['soon', 'minutes', 'days'],
    );
    const id = await index.schedule(clock.nowMs() + 10, 0, Buffer.from('new'));
    assert.ok(id > Math.max(...released.map((entry) => entry.id)), 'ids keep growing across restarts');
    await index.close();
  });
});

type Operation =
  | { kind: 'schedule'; delayMs: number; partition: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'jump'; ms: number }
  | { kind: 'reopen' };

const delay = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -2_000, max: 5_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 3 * 3_600_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 300 * 86_400_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: Limits.delayMsMax }) },
);

const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('schedule' as const), delayMs: delay, partition: fc.nat(3) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('jump' as const),
      ms: fc.integer({ min: 0, max: 50 * 365 * 86_400_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

test('the delay index agrees with a sorted array: nothing early, nothing lost, nothing twice', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { maxLength: 40 }), async (operations) => {
      const clock = new ManualClock();
      const store = durableMemoryStore();
      const released: Released[] = [];
      let index = await openIndex(clock, store, released);
      const reference: { id: number; dueMs: number; partition: number }[] = [];
      for (const step of operations) {
        switch (step.kind) {
          case 'schedule': {
            const dueMs = clock.nowMs() + step.delayMs;
            const id = await index.schedule(dueMs, step.partition, Buffer.from(String(dueMs)));
            reference.push({ id, dueMs, partition: step.partition });
            break;
          }
          case 'advance':
            await advance(clock, index, step.ms, 300);
            break;
          case 'jump':
            clock.advance(step.ms);
            await settle(clock, index);
            break;
          case 'reopen':
            await index.close();
            index = await openIndex(clock, store, released);
            break;
        }
        await settle(clock, index);
        const nowMs = clock.nowMs();
        const due = reference.filter((entry) => entry.dueMs <= nowMs).sort((a, b) => a.id - b.id);
        const got = [...released].sort((a, b) => a.id - b.id);
        assert.deepEqual(
          got.map((entry) => [entry.id, entry.dueMs, entry.partition, entry.body]),
          due.map((entry) => [entry.id, entry.dueMs, entry.partition, String(entry.dueMs)]),
        );
        for (const entry of released) assert.ok(entry.atMs >= entry.dueMs, 'never early');
        assert.equal(index.pendingCount, reference.length - due.length);
      }
      await index.close();
    }),
    { numRuns: 150 },
  );
});

test('a file store keeps pending entries across a reopen and deletes released buckets', async () => {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'weir-delay-'));
  try {
    const clock = new ManualClock();
    const store = fileDelayStore(directory, { fsync: { kind: 'never' } });
    const released: string[] = [];
    const open = (): Promise<DelayIndex> =>
      DelayIndex.open({
        store,
        clock,
        release: (entries) => {
          for (const entry of entries) released.push(entry.value.toString());
          return Promise.resolve();
        },
      });
    let index = await open();
    const start = clock.nowMs();
    await index.schedule(start + 1_500, 0, Buffer.from('a'));
    await index.schedule(start + 45 * 60_000, 0, Buffer.from('b'));
    await index.close();
    index = await open();
    assert.equal(index.pendingCount, 2);
    await advance(clock, index, 2_000);
    assert.deepEqual(released, ['a']);
    clock.advance(45 * 60_000);
    await settle(clock, index);
    await advance(clock, index, 2_000);
    assert.deepEqual(released, ['a', 'b']);
    assert.equal(index.pendingCount, 0);
    await index.close();
    assert.deepEqual(await fs.readdir(directory), []);
  } finally {
    await fs.rm(directory, { recursive: true, force: true });
  }
});
