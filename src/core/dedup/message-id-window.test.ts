import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MessageIdWindow } from './message-id-window.js';

test('the window agrees with a plain map: expiry by time, early eviction by capacity', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 16 }),
      fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant('add' as const), id: fc.nat(40), stepMs: fc.nat(30) }),
          fc.record({ kind: fc.constant('find' as const), id: fc.nat(40), stepMs: fc.nat(30) }),
        ),
        { maxLength: 300 },
      ),
      (capacity, operations) => {
        const windowMs = 100;
        const window = new MessageIdWindow(windowMs, capacity);
        const reference: { id: string; timeMs: number; offset: number }[] = [];
        let nowMs = 1_000;
        let offset = 0;
        for (const operation of operations) {
          nowMs += operation.stepMs;
          const id = `id-${operation.id}`;
          while (reference.length > 0 && reference[0]!.timeMs <= nowMs - windowMs) reference.shift();
          const known = reference.find((entry) => entry.id === id);
          assert.deepEqual(window.find(id, nowMs), known && { partition: 0, offset: known.offset });
          if (operation.kind === 'add' && known === undefined) {
            if (reference.length === capacity) reference.shift();
            reference.push({ id, timeMs: nowMs, offset });
            window.add(id, nowMs, 0, offset++);
          }
          assert.equal(window.size, reference.length);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('memory is fixed by capacity', () => {
  const window = new MessageIdWindow(86_400_000, 100_000);
  const before = window.memoryBytes;
  for (let index = 0; index < 250_000; index++) window.add(`message-${index}`, 1_000 + index, 0, index);
  assert.equal(window.size, 100_000);
  assert.equal(window.evictedEarly, 150_000);
  assert.equal(window.memoryBytes, before);
  assert.ok(before < 10 * 1024 * 1024, `about 9.8 MB, got ${before}`);
  assert.deepEqual(window.find('message-249999', 300_000), { partition: 0, offset: 249_999 });
  assert.equal(window.find('message-0', 300_000), undefined);
});
