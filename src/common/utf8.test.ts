import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RecentString, utf8ByteLength, writeUtf8 } from './utf8.js';

// Strings around the 64-character fast-path boundary, mixing ASCII, two- and three-byte
// characters, surrogate pairs and lone surrogates (which UTF-8 writes as U+FFFD).
const unit = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 0x7f }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0x7ff }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x800, max: 0xffff }) },
);
const text = fc.oneof(
  fc.array(unit, { maxLength: 80 }).map((codes) => String.fromCharCode(...codes)),
  fc.string({ unit: 'grapheme', maxLength: 70 }),
  fc.string({ unit: 'binary', maxLength: 70 }),
);

test('utf8ByteLength is Buffer.byteLength for every string', () => {
  fc.assert(
    fc.property(text, (value) => {
      assert.equal(utf8ByteLength(value), Buffer.byteLength(value, 'utf8'));
    }),
    { numRuns: 2_000 },
  );
});

test('writeUtf8 writes exactly Buffer.from(text) and nothing past it', () => {
  fc.assert(
    fc.property(text, fc.integer({ min: 0, max: 7 }), (value, position) => {
      const expected = Buffer.from(value, 'utf8');
      const target = Buffer.alloc(position + value.length * 3 + 8, 0xaa);
      const written = writeUtf8(target, position, value);
      assert.equal(written, expected.length);
      assert.deepEqual(target.subarray(position, position + written), expected);
      assert.ok(target.subarray(0, position).every((byte) => byte === 0xaa));
      assert.ok(target.subarray(position + written).every((byte) => byte === 0xaa));
    }),
    { numRuns: 2_000 },
  );
});

test('RecentString decodes every byte string as Buffer#toString does, repeats and near-repeats included', () => {
  const bytes = fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array));
  fc.assert(
    fc.property(fc.array(fc.tuple(bytes, fc.integer({ min: 0, max: 4 })), { maxLength: 30 }), (inputs) => {
      const recent = new RecentString();
      let previous: Buffer | undefined;
      for (const [input, change] of inputs) {
        // Often the previous bytes again, or one byte changed, at another place in a buffer.
        let value = input;
        if (previous !== undefined && change < 3) {
          value = Buffer.from(previous);
          if (change === 1 && value.length > 0) {
            const middle = value.length >> 1;
            value[middle] = (value[middle] as number) ^ 0x01;
          }
        }
        const holder = Buffer.concat([Buffer.from([1, 2]), value, Buffer.from([3])]);
        assert.equal(recent.decode(holder, 2, 2 + value.length), value.toString('utf8'));
        previous = value;
      }
    }),
    { numRuns: 500 },
  );
});
