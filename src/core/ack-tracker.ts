// Which offsets of one stream partition a consumer has acknowledged (DESIGN.md §3).
//
// State is the ack floor (every offset below it is acked) plus the acked offsets above it,
// kept in chunks of 65,536 offsets as roaring bitmaps do: a chunk with few acked offsets is
// a sorted array of 16-bit positions, a denser one an 8 KiB bitmap, a complete one a marker
// holding neither; chunks the floor passes are dropped. Acks that arrive in order never store anything: they only move the floor. Memory
// therefore grows with the disorder of acks, not with the number of messages, and
// `memoryBytes()` reports it.

import { assert } from '../common/assert.js';

const chunkSize = 1 << 16;
const chunkMask = chunkSize - 1;
/** An array container turns into a bitmap past this many entries (2 bytes each = 8 KiB). */
const arrayContainerMax = 4096;

interface Chunk {
  /** Sorted positions inside the chunk while sparse; undefined once a bitmap. */
  values: number[] | undefined;
  bits: Uint32Array | undefined;
  count: number;
}

/** A run of acked offsets, `end` exclusive. */
export interface AckedRange {
  readonly start: number;
  readonly end: number;
}

export class AckTracker {
  #floor: number;
  readonly #chunks = new Map<number, Chunk>();
  #ackedAboveFloor = 0;
  /** One past the highest acked offset seen (at least the floor). */
  #highestEnd: number;

  constructor(floor = 0) {
    assert(Number.isSafeInteger(floor) && floor >= 0, 'ack floor is a non-negative integer');
    this.#floor = floor;
    this.#highestEnd = floor;
  }

  /** Every offset below the floor is acked. */
  get floor(): number {
    return this.#floor;
  }

  /** Acked offsets stored above the floor. */
  get ackedAboveFloor(): number {
    return this.#ackedAboveFloor;
  }

  /** One past the highest acked offset (at least the floor). */
  get highestEnd(): number {
    return this.#highestEnd;
  }

  /** Unacked offsets between the floor and the highest acked offset: the holes. */
  get holes(): number {
    return this.#highestEnd - this.#floor - this.#ackedAboveFloor;
  }

  isAcked(offset: number): boolean {
    if (offset < this.#floor) return true;
    const chunk = this.#chunks.get(Math.floor(offset / chunkSize));
    if (chunk === undefined) return false;
    return chunkHas(chunk, offset & chunkMask);
  }

  /** Marks one offset acked; false when it already was. */
  ack(offset: number): boolean {
    assert(Number.isSafeInteger(offset) && offset >= 0, 'offset is a non-negative integer');
    if (offset < this.#floor) return false;
    if (offset === this.#floor) {
      this.#floor += 1;
      if (this.#highestEnd < this.#floor) this.#highestEnd = this.#floor;
      this.#advanceFloor();
      return true;
    }
    const index = Math.floor(offset / chunkSize);
    let chunk = this.#chunks.get(index);
    if (chunk === undefined) {
      chunk = { values: [], bits: undefined, count: 0 };
      this.#chunks.set(index, chunk);
    }
    if (!chunkAdd(chunk, offset & chunkMask)) return false;
    this.#ackedAboveFloor += 1;
    if (offset + 1 > this.#highestEnd) this.#highestEnd = offset + 1;
    return true;
  }

  /** Acks every offset in [start, end); returns how many were newly acked. */
  ackRange(start: number, end: number): number {
    let added = 0;
    if (start <= this.#floor && end > this.#floor) {
      // Fast path: the range covers the floor, so the floor jumps without storing anything.
      added = end - this.#floor;
      const oldFloor = this.#floor;
      this.#floor = end;
      added -= this.#dropChunksBelow(oldFloor, end);
      if (this.#highestEnd < this.#floor) this.#highestEnd = this.#floor;
      this.#advanceFloor();
      return added;
    }
    let offset = Math.max(start, this.#floor);
    while (offset < end) {
      const index = Math.floor(offset / chunkSize);
      const base = index * chunkSize;
      if (offset === base && end >= base + chunkSize) {
        // A whole chunk: one marker, no bitmap.
        const chunk = this.#chunks.get(index);
        const before = chunk?.count ?? 0;
        this.#chunks.set(index, { values: undefined, bits: undefined, count: chunkSize });
        added += chunkSize - before;
        this.#ackedAboveFloor += chunkSize - before;
        if (base + chunkSize > this.#highestEnd) this.#highestEnd = base + chunkSize;
        offset = base + chunkSize;
        continue;
      }
      const stop = Math.min(end, base + chunkSize);
      for (; offset < stop; offset++) if (this.ack(offset)) added += 1;
    }
    return added;
  }

  /** Moves the floor up to `offset` (messages below were deleted by retention). */
  advanceFloorTo(offset: number): void {
    if (offset <= this.#floor) return;
    this.ackRange(this.#floor, offset);
  }

  /** The first unacked offset at or after `from`. */
  nextUnacked(from: number): number {
    let offset = Math.max(from, this.#floor);
    for (;;) {
      const index = Math.floor(offset / chunkSize);
      const chunk = this.#chunks.get(index);
      if (chunk === undefined) return offset;
      if (chunk.count === chunkSize) {
        offset = (index + 1) * chunkSize;
        continue;
      }
      if (!chunkHas(chunk, offset & chunkMask)) return offset;
      offset += 1;
    }
  }

  /** The acked runs above the floor, in order: what a snapshot stores. */
  ranges(): AckedRange[] {
    const result: AckedRange[] = [];
    const indexes = [...this.#chunks.keys()].sort((a, b) => a - b);
    let open: { start: number; end: number } | undefined;
    for (const index of indexes) {
      const chunk = this.#chunks.get(index);
      assert(chunk !== undefined, 'chunk listed');
      const base = index * chunkSize;
      forEachInChunk(chunk, (position) => {
        const offset = base + position;
        if (open !== undefined && open.end === offset) open.end += 1;
        else {
          if (open !== undefined) result.push(open);
          open = { start: offset, end: offset + 1 };
        }
      });
    }
    if (open !== undefined) result.push(open);
    return result;
  }

  /** Approximate bytes held: containers plus map entries. */
  memoryBytes(): number {
    let bytes = 64;
    for (const chunk of this.#chunks.values()) {
      bytes += 80;
      if (chunk.bits !== undefined) bytes += chunk.bits.byteLength;
      else if (chunk.values !== undefined) bytes += chunk.values.length * 8;
    }
    return bytes;
  }

  #advanceFloor(): void {
    for (;;) {
      const index = Math.floor(this.#floor / chunkSize);
      const chunk = this.#chunks.get(index);
      if (chunk === undefined) return;
      if (chunk.count === chunkSize && chunk.bits === undefined && chunk.values === undefined) {
        // A full chunk lies wholly above the floor, so the floor is at its base.
        this.#ackedAboveFloor -= chunkSize;
        this.#floor = (index + 1) * chunkSize;
        this.#chunks.delete(index);
        continue;
      }
      const position = this.#floor & chunkMask;
      if (!chunkHas(chunk, position)) return;
      chunkDelete(chunk, position);
      this.#ackedAboveFloor -= 1;
      this.#floor += 1;
      if (chunk.count === 0) this.#chunks.delete(index);
    }
  }

  /** Removes stored acks in [from, to) now that the floor covers them; returns how many. */
  #dropChunksBelow(from: number, to: number): number {
    let removed = 0;
    for (const [index, chunk] of this.#chunks) {
      const base = index * chunkSize;
      if (base + chunkSize <= from || base >= to) continue;
      if (base >= from && base + chunkSize <= to) {
        removed += chunk.count;
        this.#chunks.delete(index);
        continue;
      }
      const low = Math.max(from, base) - base;
      const high = Math.min(to, base + chunkSize) - base;
      const doomed: number[] = [];
      forEachInChunk(chunk, (position) => {
        if (position >= low && position < high) doomed.push(position);
      });
      for (const position of doomed) chunkDelete(chunk, position);
      removed += doomed.length;
      if (chunk.count === 0) this.#chunks.delete(index);
    }
    this.#ackedAboveFloor -= removed;
    return removed;
  }
}

/** Turns a full marker into an explicit bitmap, so single offsets can be removed from it. */
function materialize(chunk: Chunk): void {
  if (chunk.count !== chunkSize || chunk.bits !== undefined || chunk.values !== undefined) return;
  chunk.bits = new Uint32Array(chunkSize >>> 5).fill(0xffffffff);
}

function chunkHas(chunk: Chunk, position: number): boolean {
  if (chunk.count === chunkSize) return true;
  if (chunk.bits !== undefined) return ((chunk.bits[position >>> 5] ?? 0) & (1 << (position & 31))) !== 0;
  return binarySearch(chunk.values ?? [], position) >= 0;
}

function chunkAdd(chunk: Chunk, position: number): boolean {
  if (chunk.count === chunkSize) return false;
  if (chunk.bits !== undefined) {
    const word = position >>> 5;
    const bit = 1 << (position & 31);
    const current = chunk.bits[word] ?? 0;
    if ((current & bit) !== 0) return false;
    chunk.bits[word] = current | bit;
    chunk.count += 1;
    return true;
  }
  const values = chunk.values ?? [];
  const found = binarySearch(values, position);
  if (found >= 0) return false;
  values.splice(-found - 1, 0, position);
  chunk.count += 1;
  if (values.length > arrayContainerMax) {
    const bits = new Uint32Array(chunkSize >>> 5);
    for (const value of values) bits[value >>> 5] = (bits[value >>> 5] ?? 0) | (1 << (value & 31));
    chunk.bits = bits;
    chunk.values = undefined;
  }
  return true;
}

function chunkDelete(chunk: Chunk, position: number): void {
  materialize(chunk);
  if (chunk.bits !== undefined) {
    const word = position >>> 5;
    const bit = 1 << (position & 31);
    const current = chunk.bits[word] ?? 0;
    if ((current & bit) === 0) return;
    chunk.bits[word] = current & ~bit;
    chunk.count -= 1;
    return;
  }
  const values = chunk.values ?? [];
  const found = binarySearch(values, position);
  if (found < 0) return;
  values.splice(found, 1);
  chunk.count -= 1;
}

function forEachInChunk(chunk: Chunk, visit: (position: number) => void): void {
  if (chunk.count === chunkSize && chunk.bits === undefined && chunk.values === undefined) {
    for (let position = 0; position < chunkSize; position++) visit(position);
    return;
  }
  if (chunk.bits !== undefined) {
    for (let word = 0; word < chunk.bits.length; word++) {
      let bits = chunk.bits[word] ?? 0;
      while (bits !== 0) {
        const low = bits & -bits;
        visit(word * 32 + (31 - Math.clz32(low)));
        bits ^= low;
      }
    }
    return;
  }
  for (const value of chunk.values ?? []) visit(value);
}

/** Index of `value`, or -(insertion point) - 1. */
function binarySearch(values: readonly number[], value: number): number {
  let low = 0;
  let high = values.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const current = values[middle] ?? 0;
    if (current < value) low = middle + 1;
    else if (current > value) high = middle - 1;
    else return middle;
  }
  return -low - 1;
}
