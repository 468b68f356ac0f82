// OffsetIndex: the sparse map from offsets to file positions of one segment.
//
// File `<baseOffset>.index`, a sequence of 8-byte entries, big-endian:
//
//   0   4   relativeOffset   baseOffset of an indexed batch minus the segment's baseOffset
//   4   4   position         byte position of that batch in `<baseOffset>.log`
//
// Both fields strictly increase from entry to entry. The first batch of a segment is always
// indexed (at relativeOffset 0, or later in a compacted segment, whose first records may be
// gone: recovery checks it against the batch), then the first batch that starts at least `indexIntervalBytes` after the last
// indexed one, so the entries follow from the log bytes alone and recovery can rebuild them.
// The file is written lazily and never trusted blindly: on open the longest valid prefix is
// kept and the rest is rebuilt by scanning the segment from the last kept entry.

import { grown, lastIndexAtMost } from './sorted-array.js';
import { assert } from '../common/assert.js';

export const offsetIndexEntryBytes = 8;

export class OffsetIndex {
  #relativeOffsets = new Uint32Array(64);
  #positions = new Uint32Array(64);
  #count = 0;
  /** Entries below this index are in the file. */
  #persistedCount = 0;

  get count(): number {
    return this.#count;
  }

  get pendingCount(): number {
    return this.#count - this.#persistedCount;
  }

  lastPosition(): number {
    return this.#count === 0 ? -Infinity : this.#positions[this.#count - 1]!;
  }

  relativeOffsetAt(entry: number): number {
    assert(entry >= 0 && entry < this.#count, 'offset index entry in range');
    return this.#relativeOffsets[entry]!;
  }

  positionAt(entry: number): number {
    assert(entry >= 0 && entry < this.#count, 'offset index entry in range');
    return this.#positions[entry]!;
  }

  append(relativeOffset: number, position: number): void {
    assert(
      this.#count === 0 ||
        (relativeOffset > this.#relativeOffsets[this.#count - 1]! &&
          position > this.#positions[this.#count - 1]!),
      'offset index entries increase',
    );
    assert(relativeOffset <= 0xffff_ffff && position <= 0xffff_ffff, 'offset index entry fits 32 bits');
    if (this.#count === this.#positions.length) {
      this.#relativeOffsets = grown(this.#relativeOffsets, this.#count * 2);
      this.#positions = grown(this.#positions, this.#count * 2);
    }
    this.#relativeOffsets[this.#count] = relativeOffset;
    this.#positions[this.#count] = position;
    this.#count++;
  }

  /** The last entry whose relativeOffset is at most `relativeOffset`, or -1. */
  floorEntry(relativeOffset: number): number {
    return lastIndexAtMost(this.#relativeOffsets, this.#count, relativeOffset);
  }

  /** The largest indexed position at most `position`, or -1. */
  floorPosition(position: number): number {
    const entry = lastIndexAtMost(this.#positions, this.#count, position);
    return entry < 0 ? -1 : this.#positions[entry]!;
  }

  /** Drops entries from `count` on; the file is cut back on the next persist. */
  truncate(count: number): void {
    assert(count >= 0 && count <= this.#count, 'truncate within the index');
    this.#count = count;
    this.#persistedCount = Math.min(this.#persistedCount, count);
  }

  /**
   * Loads the longest valid prefix of a file's bytes: whole entries, strictly increasing,
   * positions inside a segment of `segmentBytes`. Returns how many entries were kept.
   */
  load(bytes: Buffer, segmentBytes: number): number {
    this.truncate(0);
    const whole = Math.floor(bytes.length / offsetIndexEntryBytes);
    for (let entry = 0; entry < whole; entry++) {
      const relativeOffset = bytes.readUInt32BE(entry * offsetIndexEntryBytes);
      const position = bytes.readUInt32BE(entry * offsetIndexEntryBytes + 4);
      const previous = this.#count - 1;
      const valid =
        position < segmentBytes &&
        (previous < 0
          ? position === 0
          : relativeOffset > this.#relativeOffsets[previous]! && position > this.#positions[previous]!);
      if (!valid) break;
      this.append(relativeOffset, position);
    }
    this.#persistedCount = this.#count;
    return this.#count;
  }

  /** The bytes of the entries not yet in the file, and the file position they go to. */
  takePending(): { bytes: Buffer; filePosition: number } {
    const pending = this.pendingCount;
    const bytes = Buffer.allocUnsafe(pending * offsetIndexEntryBytes);
    for (let index = 0; index < pending; index++) {
      const entry = this.#persistedCount + index;
      bytes.writeUInt32BE(this.#relativeOffsets[entry]!, index * offsetIndexEntryBytes);
      bytes.writeUInt32BE(this.#positions[entry]!, index * offsetIndexEntryBytes + 4);
    }
    const filePosition = this.#persistedCount * offsetIndexEntryBytes;
    this.#persistedCount = this.#count;
    return { bytes, filePosition };
  }
}
