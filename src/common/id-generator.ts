// Compact, unique, time-ordered ids for messages (and anything else that needs one).
//
// An id is 26 characters of Crockford base32 (`0-9A-Z` without I, L, O, U), 128 bits
// in the shape of a ULID: 48 bits of milliseconds since the Unix epoch, then 80 bits that
// start random each millisecond and count up within it. So ids from one generator sort
// (as strings) in the order they were made, and ids from different processes collide only
// if 80 random bits do.
//
// Fast: the random part is drawn once per millisecond, and the time prefix is encoded once
// per millisecond; a typical id costs one increment and one concatenation (all but the last
// character are re-encoded once every 32 ids).

import { randomFillSync } from 'node:crypto';

const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const fortyBits = 2 ** 40;
/** Random halves start below 2^39, leaving at least 2^39 increments before a carry. */
const randomHalfMax = 2 ** 39;
const timeMax = 2 ** 48 - 1;

/** Encodes a non-negative integer below 32^length as `length` base32 characters. */
function encodeBase32(value: number, length: number): string {
  let text = '';
  for (let index = 0; index < length; index++) {
    text = alphabet[value % 32]! + text;
    value = Math.floor(value / 32);
  }
  return text;
}

export class IdGenerator {
  #lastMs = -1;
  #timeText = '';
  #high = 0;
  #highText = '';
  #low = 0;
  /** The id without its last character: time, high half, and all but the last low digit. */
  #stem = '';
  readonly #random = Buffer.alloc(10);

  /** A new id for a message made at `nowMs`; never equal to, and sorting after, the last one. */
  next(nowMs: number): string {
    // A clock that steps back must not reorder ids: keep counting in the last millisecond.
    const ms = Math.min(timeMax, Math.max(Math.floor(nowMs), this.#lastMs, 0));
    if (ms !== this.#lastMs) {
      this.#lastMs = ms;
      this.#timeText = encodeBase32(ms, 10);
      randomFillSync(this.#random);
      this.#high = this.#random.readUIntBE(0, 5) % randomHalfMax;
      this.#highText = encodeBase32(this.#high, 8);
      this.#low = this.#random.readUIntBE(5, 5) % randomHalfMax;
      this.#encodeStem();
    } else {
      this.#low++;
      if (this.#low === fortyBits) {
        this.#low = 0;
        this.#high++;
        this.#highText = encodeBase32(this.#high, 8);
      }
      // Only the last digit moves on most ids: the stem is re-encoded once every 32.
      if (this.#low % 32 === 0) this.#encodeStem();
    }
    return this.#stem + alphabet[this.#low % 32]!;
  }

  #encodeStem(): void {
    this.#stem = this.#timeText + this.#highText + encodeBase32(Math.floor(this.#low / 32), 7);
  }
}

/** The process-wide generator. */
export const defaultIdGenerator = new IdGenerator();

/** The millisecond timestamp an id was made at (for ids from an IdGenerator). */
export function idTimestampMs(id: string): number {
  let value = 0;
  for (let index = 0; index < 10; index++) {
    const digit = alphabet.indexOf(id[index] ?? '');
    if (digit < 0) return Number.NaN;
    value = value * 32 + digit;
  }
  return value;
}
