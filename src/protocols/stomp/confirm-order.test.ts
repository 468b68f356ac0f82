import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ConfirmOrder } from './confirm-order.js';

test('work runs in order, each after every confirm registered before it', () => {
  fc.assert(
    fc.property(
      fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (steps, settleOrder) => {
        const order = new ConfirmOrder();
        const registered: number[] = [];
        const ran: number[] = [];
        const requirements = new Map<number, number>();
        const settled = new Set<number>();
        steps.forEach((isConfirm, index) => {
          if (isConfirm) registered.push(order.register());
          else {
            const before = registered.length;
            requirements.set(index, before);
            order.afterAll(() => {
              // Confirms are numbered 1, 2, …: all of 1..before must have settled.
              for (let sequence = 1; sequence <= before; sequence++) assert.ok(settled.has(sequence));
              ran.push(index);
            });
          }
        });
        // Settle in a shuffled order; each run checks its precondition as it happens.
        const pending = [...registered];
        for (const pick of settleOrder) {
          if (pending.length === 0) break;
          const [sequence] = pending.splice(pick % pending.length, 1);
          if (sequence === undefined) continue;
          settled.add(sequence);
          order.settle(sequence);
        }
        for (const sequence of pending) {
          settled.add(sequence);
          order.settle(sequence);
        }
        assert.equal(order.outstanding, 0);
        assert.deepEqual(ran, [...requirements.keys()]);
      },
    ),
  );
});

test('nothing waits when no confirm is outstanding', () => {
  const order = new ConfirmOrder();
  let ran = false;
  order.afterAll(() => (ran = true));
  assert.ok(ran);
  const sequence = order.register();
  let later = false;
  order.afterAll(() => (later = true));
  assert.ok(!later);
  order.settle(sequence);
  assert.ok(later);
});
