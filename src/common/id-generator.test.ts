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

test('ids built from a cached stem equal the full encoding, across stem, carry and millisecond changes', () => {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const decodeLow = (id: string): number => {
    let value = 0;
    for (const character of id.slice(18)) value = value * 32 + alphabet.indexOf(character);
    return value;
  };
  const generator = new IdGenerator();
  let previous = generator.next(10);
  const seen = new Set([previous]);
  for (let index = 1; index < 5_000; index++) {
    const id = generator.next(10 + Math.floor(index / 1_000));
    assert.ok(id > previous, 'sorted after the last');
    if (id.slice(0, 10) === previous.slice(0, 10)) {
      // Same millisecond: the 80-bit counter moved by exactly one.
      const carried = id.slice(10, 18) !== previous.slice(10, 18);
      if (!carried) assert.equal(decodeLow(id), decodeLow(previous) + 1);
    }
    seen.add(id);
    previous = id;
  }
  assert.equal(seen.size, 5_000);
});
