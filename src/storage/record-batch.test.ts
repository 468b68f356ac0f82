import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Offset } from '../common/branded.js';
import type { BatchInput } from './log.js';
import { batchHeaderBytes, checkBatch, DecodedBatch, encodeBatch, measureBatch } from './record-batch.js';

const recordArbitrary = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: undefined }),
  value: fc.uint8Array({ maxLength: 200 }),
  timestampMs: fc.option(fc.integer({ min: 1_600_000_000_000, max: 1_600_100_000_000 }), { nil: undefined }),
});

test('encode then decode gives back every field, record and byte', () => {
  fc.assert(
    fc.property(
      fc.array(recordArbitrary, { minLength: 1, maxLength: 20 }),
      fc.nat({ max: 2 ** 50 }),
      fc.bigInt({ min: -1n, max: 2n ** 62n }),
      (records, baseOffset, producerId) => {
        const input: BatchInput = {
          records: records.map((record) => ({
            value: Buffer.from(record.value),
            ...(record.key === undefined ? {} : { key: Buffer.from(record.key) }),
            ...(record.timestampMs === undefined ? {} : { timestampMs: record.timestampMs }),
          })),
          producerId,
          producerEpoch: 2,
          baseSequence: 9,
          flags: 3,
        };
        const defaultMs = 1_600_050_000_000;
        const bytes = encodeBatch(input, measureBatch(input), Offset(baseOffset), defaultMs);
        assert.equal(checkBatch(bytes, 0), undefined);
        const batch = new DecodedBatch(bytes);
        assert.equal(batch.baseOffset, baseOffset);
        assert.equal(batch.recordCount, records.length);
        assert.equal(batch.producerId, producerId);
        const timestamps = records.map((record) => record.timestampMs ?? defaultMs);
        assert.equal(batch.firstTimestampMs, timestamps[0]);
        assert.equal(batch.maxTimestampMs, Math.max(...timestamps));
        const decoded = [...batch.records()];
        decoded.forEach((record, index) => {
          assert.equal(record.offset, baseOffset + index);
          assert.equal(record.timestampMs, timestamps[index]);
          assert.deepEqual(record.value, Buffer.from(records[index]!.value));
          const key = records[index]!.key;
          assert.deepEqual(record.key, key === undefined ? undefined : Buffer.from(key));
        });
      },
    ),
  );
});

test('any flipped bit or cut is detected', () => {
  const input: BatchInput = {
    records: [{ value: Buffer.from('hello') }, { value: Buffer.from('world'), key: Buffer.from('k') }],
  };
  const bytes = encodeBatch(input, measureBatch(input), Offset(7), 1000);
  for (let position = 0; position < bytes.length; position++) {
    for (let bit = 0; bit < 8; bit++) {
      const copy = Buffer.from(bytes);
      copy[position]! ^= 1 << bit;
      assert.notEqual(checkBatch(copy, 0), undefined, `flip at ${position} bit ${bit}`);
    }
  }
  for (let length = 0; length < bytes.length; length++) {
    const problem = checkBatch(bytes.subarray(0, length), 0);
    assert.ok(problem === 'short header' || problem === 'truncated', `cut at ${length}: ${problem}`);
  }
  assert.equal(checkBatch(Buffer.alloc(batchHeaderBytes + 20), 0), 'bad magic');
});
