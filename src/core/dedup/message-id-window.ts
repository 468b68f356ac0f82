// The per-stream message-id dedup window, for clients that have a message id but no
// idempotent producer (MQTT, STOMP, AMQP, HTTP): a publish whose id was stored within the
// last `windowMs` is confirmed with the original's partition and offset, not stored again.
//
// Compact ids: an id is kept as a 64-bit hash (two 32-bit FNV-1a variants) in an
// open-addressing hash table of typed arrays, with the time and the position it was stored
// at, and a ring of insertion order so that entries leave the window oldest first. Memory is
// fixed when the window is created: 36 bytes per slot, with 2 to 4 slots per id of capacity
// (a power of two), plus 4 bytes per id: the default capacity of 100,000 ids takes 9.8 MB,
// Limits.dedupWindowIdsMax (1,000,000 ids) 80 MB; `memoryBytes` reports it. When the window
// holds `capacity` ids the oldest leaves early, so the window is "windowMs or the last
// capacity ids, whichever is shorter" (counted in `evictedEarly`).
//
// A new id is mistaken for a stored one only if both 32-bit hashes match one of the ids in
// the window: with a million ids in it, about 5 chances in 10^14 per publish.

import { assert } from '../../common/assert.js';

export interface DedupHit {
  readonly partition: number;
  readonly offset: number;
}

const emptyMarker = 0;

function hashes(id: string): [number, number] {
  // FNV-1a over UTF-16 code units, with two offset bases; 0 is reserved for empty slots.
  let first = 0x811c9dc5;
  let second = 0x050c5d1f;
  for (let index = 0; index < id.length; index++) {
    const code = id.charCodeAt(index);
    first = Math.imul(first ^ code, 0x01000193);
    second = Math.imul(second ^ (code + 0x9e37), 0x01000193);
  }
  first = (first ^ id.length) >>> 0;
  second = second >>> 0;
  return [first === emptyMarker ? 1 : first, second];
}

export class MessageIdWindow {
  readonly windowMs: number;
  readonly capacity: number;
  evictedEarly = 0;
  readonly #slots: number;
  readonly #first: Uint32Array;
  readonly #second: Uint32Array;
  readonly #timeMs: Float64Array;
  readonly #partition: Uint32Array;
  readonly #offset: Float64Array;
  /** Slot indexes in insertion order; a ring of `capacity`. */
  readonly #order: Int32Array;
  /** The ring position of each occupied slot. */
  readonly #positionOf: Int32Array;
  #orderHead = 0;
  #count = 0;

  constructor(windowMs: number, capacity: number) {
    assert(Number.isSafeInteger(windowMs) && windowMs > 0, 'windowMs is a positive integer');
    assert(Number.isSafeInteger(capacity) && capacity > 0, 'capacity is a positive integer');
    this.windowMs = windowMs;
    this.capacity = capacity;
    this.#slots = 2 ** Math.ceil(Math.log2(capacity * 2));
    this.#first = new Uint32Array(this.#slots);
    this.#second = new Uint32Array(this.#slots);
    this.#timeMs = new Float64Array(this.#slots);
    this.#partition = new Uint32Array(this.#slots);
    this.#offset = new Float64Array(this.#slots);
    this.#order = new Int32Array(capacity);
    this.#positionOf = new Int32Array(this.#slots);
  }

  get size(): number {
    return this.#count;
  }

  /** Bytes held, fixed at creation. */
  get memoryBytes(): number {
    return this.#slots * (4 + 4 + 8 + 4 + 8 + 4) + this.capacity * 4;
  }

  /** Where `id` was stored within the window, if it was. */
  find(id: string, nowMs: number): DedupHit | undefined {
    this.#expire(nowMs);
    const [first, second] = hashes(id);
    const slot = this.#lookup(first, second);
    if (slot < 0) return undefined;
    return { partition: this.#partition[slot]!, offset: this.#offset[slot]! };
  }

  /** Records `id` as stored at `timeMs` (ids are recorded in time order). */
  add(id: string, timeMs: number, partition: number, offset: number): void {
    this.#expire(timeMs);
    const [first, second] = hashes(id);
    if (this.#lookup(first, second) >= 0) return;
    if (this.#count === this.capacity) {
      this.#removeOldest();
      this.evictedEarly += 1;
    }
    const mask = this.#slots - 1;
    let slot = (first ^ Math.imul(second, 0x9e3779b1)) & mask;
    while (this.#first[slot] !== emptyMarker) slot = (slot + 1) & mask;
    this.#first[slot] = first;
    this.#second[slot] = second;
    this.#timeMs[slot] = timeMs;
    this.#partition[slot] = partition;
    this.#offset[slot] = offset;
    const position = (this.#orderHead + this.#count) % this.capacity;
    this.#order[position] = slot;
    this.#positionOf[slot] = position;
    this.#count += 1;
  }

  #lookup(first: number, second: number): number {
    const mask = this.#slots - 1;
    let slot = (first ^ Math.imul(second, 0x9e3779b1)) & mask;
    for (;;) {
      const stored = this.#first[slot]!;
      if (stored === emptyMarker) return -1;
      if (stored === first && this.#second[slot] === second) return slot;
      slot = (slot + 1) & mask;
    }
  }

  #expire(nowMs: number): void {
    const cutoffMs = nowMs - this.windowMs;
    while (this.#count > 0 && this.#timeMs[this.#order[this.#orderHead]!]! <= cutoffMs) this.#removeOldest();
  }

  #removeOldest(): void {
    const slot = this.#order[this.#orderHead]!;
    this.#orderHead = (this.#orderHead + 1) % this.capacity;
    this.#count -= 1;
    this.#deleteSlot(slot);
  }

  /** Backward-shift deletion keeps linear probing correct without tombstones. */
  #deleteSlot(slot: number): void {
    const mask = this.#slots - 1;
    let hole = slot;
    let next = (hole + 1) & mask;
    while (this.#first[next] !== emptyMarker) {
      const home = (this.#first[next]! ^ Math.imul(this.#second[next]!, 0x9e3779b1)) & mask;
      // Move `next` into the hole if its home is not cyclically within (hole, next].
      const inRange = hole <= next ? home > hole && home <= next : home > hole || home <= next;
      if (!inRange) {
        this.#moveSlot(next, hole);
        hole = next;
      }
      next = (next + 1) & mask;
    }
    this.#first[hole] = emptyMarker;
  }

  #moveSlot(from: number, to: number): void {
    this.#first[to] = this.#first[from]!;
    this.#second[to] = this.#second[from]!;
    this.#timeMs[to] = this.#timeMs[from]!;
    this.#partition[to] = this.#partition[from]!;
    this.#offset[to] = this.#offset[from]!;
    const position = this.#positionOf[from]!;
    this.#positionOf[to] = position;
    this.#order[position] = to;
  }
}
