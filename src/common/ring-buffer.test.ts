import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RingBuffer } from './ring-buffer.js';

test('RingBuffer behaves as a FIFO queue across growth and wrap-around', () => {
  fc.assert(
    fc.property(fc.array(fc.option(fc.integer(), { nil: undefined }), { maxLength: 200 }), (operations) => {
      const ring = new RingBuffer<number>(2);
      const model: number[] = [];
      for (const operation of operations) {
        if (operation === undefined) {
          assert.equal(ring.shift(), model.shift());
        } else {
          ring.push(operation);
          model.push(operation);
        }
        assert.equal(ring.length, model.length);
        assert.equal(ring.peek(), model[0]);
      }
      ring.clear();
      assert.equal(ring.length, 0);
      assert.equal(ring.shift(), undefined);
    }),
  );
});
