import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdGenerator, idTimestampMs } from './id-generator.js';

test('ids are 26 base32 characters, unique and sorted in creation order', () => {
  const generator = new IdGenerator();
  const ids: string[] = [];
  const startMs = 1_700_000_000_000;
  for (let index = 0; index < 20_000; index++) ids.push(generator.next(startMs + Math.floor(index / 5000)));
  for (const id of ids) assert.match(id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(idTimestampMs(ids[0]!), startMs);
  assert.equal(idTimestampMs(ids.at(-1)!), startMs + 3);
});

test('a clock stepping back does not reorder ids', () => {
  const generator = new IdGenerator();
  const first = generator.next(2_000);
  const second = generator.next(1_000);
  assert.ok(second > first);
  assert.equal(idTimestampMs(second), 2_000);
});

test('two generators in the same millisecond produce different ids', () => {
  const a = new IdGenerator().next(5);
  const b = new IdGenerator().next(5);
  assert.notEqual(a, b);
});
