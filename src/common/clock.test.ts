import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from './clock.js';

test('ManualClock fires due timers in due order and skips cancelled ones', () => {
  const clock = new ManualClock(0);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('b'), 20);
  clock.setTimeout(() => fired.push('a'), 10);
  const cancelled = clock.setTimeout(() => fired.push('never'), 15);
  cancelled.cancel();
  clock.advance(15);
  assert.deepEqual(fired, ['a']);
  assert.equal(clock.nowMs(), 15);
  clock.advance(5);
  assert.deepEqual(fired, ['a', 'b']);
  assert.equal(clock.pendingTimerCount(), 0);
});

test('ManualClock runs timers scheduled by timers within the same advance', () => {
  const clock = new ManualClock(0);
  const fired: number[] = [];
  clock.setTimeout(() => {
    fired.push(clock.nowMs());
    clock.setTimeout(() => fired.push(clock.nowMs()), 5);
  }, 10);
  clock.advance(100);
  assert.deepEqual(fired, [10, 15]);
});
