import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OffsetIndex, offsetIndexEntryBytes } from './offset-index.js';
import { noTimestampMs, TimeIndex } from './time-index.js';

test('offset index finds the floor entry and persists only what is pending', () => {
  const index = new OffsetIndex();
  for (let entry = 0; entry < 100; entry++) index.append(entry * 10, entry * 4096);
  assert.equal(index.floorEntry(0), 0);
  assert.equal(index.floorEntry(9), 0);
  assert.equal(index.floorEntry(10), 1);
  assert.equal(index.floorEntry(995), 99);
  const first = index.takePending();
  assert.equal(first.filePosition, 0);
  assert.equal(first.bytes.length, 100 * offsetIndexEntryBytes);
  index.append(1000, 100 * 4096);
  const second = index.takePending();
  assert.equal(second.filePosition, 100 * offsetIndexEntryBytes);
  assert.equal(second.bytes.length, offsetIndexEntryBytes);

  const loaded = new OffsetIndex();
  assert.equal(loaded.load(Buffer.concat([first.bytes, second.bytes]), 101 * 4096), 101);
  assert.equal(loaded.positionAt(loaded.floorEntry(555)), 55 * 4096);
  assert.equal(loaded.pendingCount, 0);
});

test('offset index load keeps the longest valid prefix', () => {
  const index = new OffsetIndex();
  for (let entry = 0; entry < 10; entry++) index.append(entry * 10, entry * 100);
  const bytes = index.takePending().bytes;
  const loaded = new OffsetIndex();
  assert.equal(loaded.load(bytes.subarray(0, bytes.length - 3), 10_000), 9, 'partial last entry dropped');
  assert.equal(loaded.load(bytes, 550), 6, 'entries past the segment end dropped');
  const broken = Buffer.from(bytes);
  broken.writeUInt32BE(5, 4 * offsetIndexEntryBytes);
  assert.equal(loaded.load(broken, 10_000), 4, 'a decreasing entry ends the valid prefix');
  const badStart = Buffer.from(bytes);
  badStart.writeUInt32BE(1, 4);
  assert.equal(loaded.load(badStart, 10_000), 0, 'the first entry must be the segment start');
});

test('time index finds the last entry before a time and survives a round trip', () => {
  const index = new TimeIndex();
  index.append(noTimestampMs, 0);
  index.append(1_700_000_000_100, 10);
  index.append(1_700_000_000_100, 20);
  index.append(1_700_000_000_300, 30);
  assert.equal(index.lastEntryBefore(0), 0);
  assert.equal(index.lastEntryBefore(1_700_000_000_100), 0);
  assert.equal(index.lastEntryBefore(1_700_000_000_101), 2);
  assert.equal(index.lastEntryBefore(1_700_000_001_000), 3);
  const loaded = new TimeIndex();
  assert.equal(loaded.load(index.takePending().bytes), 4);
  assert.equal(loaded.maxTimestampBeforeMsAt(0), noTimestampMs);
  assert.equal(loaded.maxTimestampBeforeMsAt(3), 1_700_000_000_300);
  assert.equal(loaded.relativeOffsetAt(2), 20);
});
