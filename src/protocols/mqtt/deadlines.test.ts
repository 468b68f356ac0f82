import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../common/clock.js';
import { ConnectionDeadlines, type DeadlineMember } from './deadlines.js';

function member(onDeadline: (nowMs: number) => number | undefined): DeadlineMember & { calls: number[] } {
  const calls: number[] = [];
  return {
    deadlineSlice: -1,
    calls,
    onDeadline(nowMs) {
      calls.push(nowMs);
      return onDeadline(nowMs);
    },
  };
}

test('a deadline comes due at or after its time, within one slice, on one timer', () => {
  const clock = new ManualClock(1_000_050);
  const deadlines = new ConnectionDeadlines(clock, 100);
  const early = member(() => undefined);
  const late = member(() => undefined);
  deadlines.schedule(early, clock.nowMs() + 1_000);
  deadlines.schedule(late, clock.nowMs() + 5_000);
  assert.equal(deadlines.size, 2);
  clock.advance(999);
  assert.deepEqual(early.calls, [], 'never before its deadline');
  clock.advance(100);
  assert.equal(early.calls.length, 1, 'at most one slice after it');
  assert.ok((early.calls[0] ?? 0) >= 1_001_050);
  assert.deepEqual(late.calls, []);
  clock.advance(4_000);
  assert.equal(late.calls.length, 1);
  assert.equal(deadlines.size, 0);
});

test('a member that answers a later deadline is checked again then (keep alive after traffic)', () => {
  const clock = new ManualClock(2_000_000);
  const deadlines = new ConnectionDeadlines(clock, 100);
  let lastPacketAtMs = clock.nowMs();
  const keepAlive = member((nowMs) => (nowMs - lastPacketAtMs >= 1_500 ? undefined : lastPacketAtMs + 1_500));
  deadlines.schedule(keepAlive, clock.nowMs() + 1_500);
  clock.advance(1_000);
  lastPacketAtMs = clock.nowMs();
  clock.advance(600);
  assert.equal(keepAlive.calls.length, 1, 'checked at the first deadline, found traffic');
  assert.equal(deadlines.size, 1);
  clock.advance(1_000);
  assert.equal(keepAlive.calls.length, 2, 'checked again 1.5 s after the traffic, and done');
  assert.equal(deadlines.size, 0);
});

test('a removed member is not called and not held; close cancels everything', () => {
  const clock = new ManualClock(3_000_000);
  const deadlines = new ConnectionDeadlines(clock, 100);
  const removed = member(() => undefined);
  const kept = member(() => undefined);
  deadlines.schedule(removed, clock.nowMs() + 500);
  deadlines.schedule(kept, clock.nowMs() + 500);
  deadlines.remove(removed);
  assert.equal(removed.deadlineSlice, -1);
  assert.equal(deadlines.size, 1);
  deadlines.close();
  clock.advance(10_000);
  assert.deepEqual(removed.calls, []);
  assert.deepEqual(kept.calls, []);
  deadlines.schedule(kept, clock.nowMs() + 100);
  assert.equal(deadlines.size, 0, 'nothing is scheduled after close');
});
