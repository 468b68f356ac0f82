import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BufferWriter } from './buffer-writer.js';

test('detached bytes never change while the writer goes on, small copies and large hand-overs alike', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 40_000 }), { minLength: 1, maxLength: 12 }), (sizes) => {
      const writer = new BufferWriter(64);
      const detached: { bytes: Buffer; fill: number }[] = [];
      sizes.forEach((size, index) => {
        const fill = index % 251;
        writer.bytes32(Buffer.alloc(size, fill));
        detached.push({ bytes: writer.detach(), fill });
      });
      // Every earlier write, still queued in a socket say, holds what was written into it.
      for (const [index, { bytes, fill }] of detached.entries()) {
        assert.equal(bytes.readUInt32BE(0), sizes[index]);
        assert.equal(bytes.length, 4 + (sizes[index] as number));
        assert.ok(bytes.subarray(4).every((byte) => byte === fill));
      }
    }),
    { numRuns: 200 },
  );
});
