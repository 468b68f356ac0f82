import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../common/clock.js';
import { TimerHeap, type TimerEntry } from './timer-heap.js';

test('entries fire in due order on one clock timer; dead ones are skipped and compacted away', () => {
  const clock = new ManualClock(0);
  const fired: number[] = [];
  const dead = new Set<number>();
  const heap = new TimerHeap(
    clock,
    (entry) => fired.push(entry.offset),
    (entry) => !dead.has(entry.offset),
  );
  const entry = (offset: number, dueMs: number): TimerEntry => ({
    dueMs,
    partition: 0,
    offset,
    deliveryCount: 1,
  });
  let seed = 3;
  const random = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const due = new Map<number, number>();
  for (let offset = 0; offset < 5_000; offset++) {
    const dueMs = Math.floor(random() * 10_000);
    due.set(offset, dueMs);
    heap.push(entry(offset, dueMs));
    if (offset % 4 !== 0) {
      dead.add(offset);
      heap.noteDead();
    }
  }
  assert.ok(heap.size < 5_000, 'compaction ran');
  assert.ok(clock.pendingTimerCount() <= 1);
  clock.advance(10_000);
  const expected = [...due.entries()]
    .filter(([offset]) => !dead.has(offset))
    .sort((a, b) => a[1] - b[1] || 0)
    .map(([, dueMs]) => dueMs);
  assert.deepEqual(
    fired.map((offset) => due.get(offset)),
    expected,
  );
  assert.equal(heap.size, 0);
});
