import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyHash, partitionForKey } from './partition-hash.js';

test('keyHash is 32-bit FNV-1a over UTF-8 bytes (published reference values)', () => {
  assert.equal(keyHash(''), 0x811c9dc5);
  assert.equal(keyHash('a'), 0xe40c292c);
  assert.equal(keyHash('foobar'), 0xbf9cf968);
});

test('keyHash hashes the UTF-8 encoding, including astral characters', () => {
  const reference = (key: string): number => {
    let hash = 0x811c9dc5;
    for (const byte of Buffer.from(key, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193);
    return hash >>> 0;
  };
  for (const key of ['é', 'größe', '日本', '😀 emoji', 'order-42'])
    assert.equal(keyHash(key), reference(key));
});

test('partitionForKey is stable and spreads keys', () => {
  assert.equal(partitionForKey('a', 16), 0xe40c292c % 16);
  const used = new Set<number>();
  for (let index = 0; index < 200; index++) used.add(partitionForKey(`key-${index}`, 8));
  assert.equal(used.size, 8);
});
