// TimeIndex: the sparse map from time to offsets of one segment, for "start at time T".
//
// File `<baseOffset>.timeindex`, a sequence of 12-byte entries, big-endian:
//
//   0   8   maxTimestampBeforeMs  largest record timestamp in the segment before the entry's
//                                 batch (signed; -2^53 + 1 when there is none)
//   8   4   relativeOffset        baseOffset of the batch minus the segment's baseOffset
//
// Entry i belongs to the batch of OffsetIndex entry i (same relativeOffset), so both indexes
// are written, loaded and rebuilt in step. maxTimestampBeforeMs never decreases; record
// timestamps need not be ordered, so a lookup for time T starts at the last entry whose
// maxTimestampBeforeMs is below T — every record before it is older than T — and scans on.

import { grown, lastIndexBelow } from './sorted-array.js';
import { assert } from '../common/assert.js';

export const timeIndexEntryBytes = 12;
/** Stands for "no record yet" in the file. */
export const noTimestampMs = -Number.MAX_SAFE_INTEGER;

const twoTo32 = 0x1_0000_0000;

export class TimeIndex {
  #maxTimestampsBeforeMs = new Float64Array(64);
  #relativeOffsets = new Uint32Array(64);
  #count = 0;
  #persistedCount = 0;

  get count(): number {
    return this.#count;
  }

  maxTimestampBeforeMsAt(entry: number): number {
    assert(entry >= 0 && entry < this.#count, 'time index entry in range');
    return this.#maxTimestampsBeforeMs[entry]!;
  }

  relativeOffsetAt(entry: number): number {
    assert(entry >= 0 && entry < this.#count, 'time index entry in range');
    return this.#relativeOffsets[entry]!;
  }

  append(maxTimestampBeforeMs: number, relativeOffset: number): void {
    const last = this.#count - 1;
    assert(
      last < 0 ||
        (maxTimestampBeforeMs >= this.#maxTimestampsBeforeMs[last]! &&
          relativeOffset > this.#relativeOffsets[last]!),
      'time index entries never decrease',
    );
    if (this.#count === this.#relativeOffsets.length) {
      this.#maxTimestampsBeforeMs = grown(this.#maxTimestampsBeforeMs, this.#count * 2);
      this.#relativeOffsets = grown(this.#relativeOffsets, this.#count * 2);
    }
    this.#maxTimestampsBeforeMs[this.#count] = maxTimestampBeforeMs;
    this.#relativeOffsets[this.#count] = relativeOffset;
    this.#count++;
  }

  /** The last entry whose maxTimestampBeforeMs is below `timestampMs`, or -1. */
  lastEntryBefore(timestampMs: number): number {
    return lastIndexBelow(this.#maxTimestampsBeforeMs, this.#count, timestampMs);
  }

  truncate(count: number): void {
    assert(count >= 0 && count <= this.#count, 'truncate within the index');
    this.#count = count;
    this.#persistedCount = Math.min(this.#persistedCount, count);
  }

  /** Loads the longest valid prefix of a file's bytes; returns how many entries were kept. */
  load(bytes: Buffer): number {
    this.truncate(0);
    const whole = Math.floor(bytes.length / timeIndexEntryBytes);
    for (let entry = 0; entry < whole; entry++) {
      const position = entry * timeIndexEntryBytes;
      const timestampMs = bytes.readInt32BE(position) * twoTo32 + bytes.readUInt32BE(position + 4);
      const relativeOffset = bytes.readUInt32BE(position + 8);
      const last = this.#count - 1;
      const valid =
        Number.isSafeInteger(timestampMs) &&
        (last < 0 ||
          (timestampMs >= this.#maxTimestampsBeforeMs[last]! &&
            relativeOffset > this.#relativeOffsets[last]!));
      if (!valid) break;
      this.append(timestampMs, relativeOffset);
    }
    this.#persistedCount = this.#count;
    return this.#count;
  }

  takePending(): { bytes: Buffer; filePosition: number } {
    const pending = this.#count - this.#persistedCount;
    const bytes = Buffer.allocUnsafe(pending * timeIndexEntryBytes);
    for (let index = 0; index < pending; index++) {
      const entry = this.#persistedCount + index;
      const timestampMs = this.#maxTimestampsBeforeMs[entry]!;
      const high = Math.floor(timestampMs / twoTo32);
      bytes.writeInt32BE(high, index * timeIndexEntryBytes);
      bytes.writeUInt32BE(timestampMs - high * twoTo32, index * timeIndexEntryBytes + 4);
      bytes.writeUInt32BE(this.#relativeOffsets[entry]!, index * timeIndexEntryBytes + 8);
    }
    const filePosition = this.#persistedCount * timeIndexEntryBytes;
    this.#persistedCount = this.#count;
    return { bytes, filePosition };
  }
}
