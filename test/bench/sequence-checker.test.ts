import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeliveryGuarantee, SequenceChecker } from '../../bench/harness/sequence-checker.js';

const atLeastOnceOrdered = { guarantee: DeliveryGuarantee.AtLeastOnce, ordered: true } as const;

test('a complete, ordered run keeps its promise', () => {
  const checker = new SequenceChecker(2);
  for (let sequence = 0; sequence < 5000; sequence++) {
    checker.record(0, sequence);
    checker.record(1, sequence);
  }
  assert.ok(checker.hasAll([5000, 5000]));
  const result = checker.verify([5000, 5000], atLeastOnceOrdered);
  assert.deepEqual(result.violations, []);
  assert.equal(result.received, 10_000);
  assert.equal(result.lost, 0);
});

test('one lost confirmed message is detected and fails an at-least-once run', () => {
  const checker = new SequenceChecker(1);
  for (let sequence = 0; sequence < 100; sequence++) if (sequence !== 57) checker.record(0, sequence);
  assert.equal(checker.hasAll([100]), false);
  const result = checker.verify([100], atLeastOnceOrdered);
  assert.equal(result.lost, 1);
  assert.equal(result.violations.length, 1);
  assert.match(result.violations[0] ?? '', /1 confirmed messages were never received/);
  assert.match(result.violations[0] ?? '', /stream 0: 57 of 100/);
});

test('a lost message is no violation at most once, but still counted', () => {
  const checker = new SequenceChecker(1);
  checker.record(0, 0);
  const result = checker.verify([2], { guarantee: DeliveryGuarantee.AtMostOnce, ordered: false });
  assert.equal(result.lost, 1);
  assert.deepEqual(result.violations, []);
});

test('duplicates are allowed at least once and fail exactly once', () => {
  const checker = new SequenceChecker(1);
  checker.record(0, 0);
  assert.equal(checker.record(0, 0), false);
  checker.record(0, 1);
  assert.deepEqual(checker.verify([2], atLeastOnceOrdered).violations, []);
  const exactly = checker.verify([2], { guarantee: DeliveryGuarantee.ExactlyOnce, ordered: true });
  assert.equal(exactly.duplicates, 1);
  assert.equal(exactly.violations.length, 1);
});

test('reordering within a stream fails an ordered promise only', () => {
  const checker = new SequenceChecker(1);
  checker.record(0, 1);
  checker.record(0, 0);
  assert.equal(checker.verify([2], atLeastOnceOrdered).outOfOrder, 1);
  assert.equal(checker.verify([2], atLeastOnceOrdered).violations.length, 1);
  assert.deepEqual(
    checker.verify([2], { guarantee: DeliveryGuarantee.AtLeastOnce, ordered: false }).violations,
    [],
  );
});

test('messages beyond what was confirmed, or from unknown streams, are counted as unexpected', () => {
  const checker = new SequenceChecker(1);
  checker.record(0, 0);
  checker.record(0, 5000);
  checker.record(3, 0);
  const result = checker.verify([1], atLeastOnceOrdered);
  assert.equal(result.unexpected, 2);
  assert.equal(result.lost, 0);
});

test('a redelivery that arrives late is reported, not counted as out of order', () => {
  const checker = new SequenceChecker(1);
  checker.record(0, 0);
  checker.record(0, 2);
  checker.record(0, 1, true);
  const result = checker.verify([3], atLeastOnceOrdered);
  assert.equal(result.outOfOrder, 0);
  assert.equal(result.redeliveredLate, 1);
  assert.deepEqual(result.violations, []);
});
