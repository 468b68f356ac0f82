import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AckTracker } from './ack-tracker.js';

test('in-order acks only move the floor and store nothing', () => {
  const tracker = new AckTracker(10);
  for (let offset = 10; offset < 100_000; offset++) assert.equal(tracker.ack(offset), true);
  assert.equal(tracker.floor, 100_000);
  assert.equal(tracker.ackedAboveFloor, 0);
  assert.equal(tracker.holes, 0);
  assert.ok(tracker.memoryBytes() < 200);
});

test('out-of-order acks are kept above the floor and fold in when the hole closes', () => {
  const tracker = new AckTracker();
  tracker.ack(2);
  tracker.ack(3);
  tracker.ack(70_000);
  assert.equal(tracker.floor, 0);
  assert.equal(tracker.holes, 70_001 - 3);
  assert.deepEqual(tracker.ranges(), [
    { start: 2, end: 4 },
    { start: 70_000, end: 70_001 },
  ]);
  assert.equal(tracker.ack(3), false, 'already acked');
  tracker.ack(0);
  tracker.ack(1);
  assert.equal(tracker.floor, 4);
  assert.equal(tracker.nextUnacked(4), 4);
  tracker.ackRange(4, 70_000);
  assert.equal(tracker.floor, 70_001);
  assert.equal(tracker.ackedAboveFloor, 0);
});

test('nextUnacked skips acked runs', () => {
  const tracker = new AckTracker();
  tracker.ackRange(5, 200_000);
  assert.equal(tracker.nextUnacked(0), 0);
  assert.equal(tracker.nextUnacked(5), 200_000);
});

test('a dense random pattern switches to bitmaps and stays within 1 bit per offset plus overhead', () => {
  const tracker = new AckTracker();
  let seed = 42;
  const random = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let offset = 1; offset < 1_000_000; offset++) if (random() < 0.5) tracker.ack(offset);
  assert.equal(tracker.floor, 0);
  assert.ok(tracker.memoryBytes() < 200_000, `memory ${tracker.memoryBytes()}`);
});

test('property: the tracker agrees with a plain set of acked offsets', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant('ack' as const), offset: fc.integer({ min: 0, max: 140_000 }) }),
          fc.record({
            kind: fc.constant('range' as const),
            offset: fc.oneof(fc.integer({ min: 0, max: 140_000 }), fc.constantFrom(65_536, 131_072)),
            length: fc.integer({ min: 1, max: 70_000 }),
          }),
        ),
        { maxLength: 60 },
      ),
      fc.array(fc.integer({ min: 0, max: 220_000 }), { maxLength: 30 }),
      (operations, probes) => {
        const tracker = new AckTracker();
        const acked = new Set<number>();
        for (const operation of operations) {
          if (operation.kind === 'ack') {
            assert.equal(tracker.ack(operation.offset), !acked.has(operation.offset));
            acked.add(operation.offset);
          } else {
            const end = operation.offset + operation.length;
            let added = 0;
            for (let offset = operation.offset; offset < end; offset++) {
              if (!acked.has(offset)) added += 1;
              acked.add(offset);
            }
            assert.equal(tracker.ackRange(operation.offset, end), added);
          }
        }
        for (const probe of probes) assert.equal(tracker.isAcked(probe), acked.has(probe));
        let floor = 0;
        while (acked.has(floor)) floor += 1;
        assert.equal(tracker.floor, floor);
        const rebuilt = new AckTracker(tracker.floor);
        for (const range of tracker.ranges()) rebuilt.ackRange(range.start, range.end);
        for (const probe of probes) assert.equal(rebuilt.isAcked(probe), acked.has(probe));
      },
    ),
    { numRuns: 60 },
  );
});

test('whole chunks acked above the floor are kept as markers and fold in when the floor arrives', () => {
  const chunk = 65_536;
  const tracker = new AckTracker();
  tracker.ack(1);
  assert.equal(tracker.ackRange(10, chunk * 5 + 7), chunk * 5 + 7 - 10);
  assert.ok(tracker.memoryBytes() < 20_000, `memory ${tracker.memoryBytes()}: bitmaps only at the two ends`);
  assert.equal(tracker.isAcked(chunk * 3 + 5), true);
  assert.equal(tracker.isAcked(chunk * 5 + 7), false);
  assert.equal(tracker.nextUnacked(2), 2);
  assert.equal(tracker.nextUnacked(10), chunk * 5 + 7);
  assert.deepEqual(tracker.ranges(), [
    { start: 1, end: 2 },
    { start: 10, end: chunk * 5 + 7 },
  ]);
  assert.equal(tracker.holes, 1 + 8);
  tracker.ackRange(0, 10);
  assert.equal(tracker.floor, chunk * 5 + 7);
  assert.equal(tracker.ackedAboveFloor, 0);
  // A marker chunk can still be cut by a floor jump that ends inside it.
  const other = new AckTracker();
  other.ack(0);
  other.ackRange(chunk, chunk * 2);
  other.ack(5);
  assert.equal(other.ackRange(0, chunk + 100), chunk + 100 - 102);
  assert.equal(other.floor, chunk * 2);
  assert.equal(other.ackedAboveFloor, 0);
});
