// Bounds-checked big-endian reads over one frame's payload. Every read past the end throws
// a WeirError (WEIR_PROTOCOL_ERROR), never a RangeError: a malformed frame is the peer's
// fault, not ours. Byte strings are returned as slices of the frame, not copies.

import { ErrorCode, WeirError } from '../../../common/errors.js';
import type { RecentString } from '../../../common/utf8.js';

export function protocolError(message: string): WeirError {
  return new WeirError(ErrorCode.ProtocolError, message);
}

export class BufferReader {
  readonly #buffer: Buffer;
  #position: number;
  readonly #end: number;

  constructor(buffer: Buffer, start = 0, end = buffer.length) {
    this.#buffer = buffer;
    this.#position = start;
    this.#end = end;
  }

  get remaining(): number {
    return this.#end - this.#position;
  }

  #need(bytes: number, what: string): number {
    if (this.#end - this.#position < bytes) {
      throw protocolError(
        `frame ends inside ${what}: ${bytes} bytes needed, ${this.#end - this.#position} left`,
      );
    }
    const at = this.#position;
    this.#position += bytes;
    return at;
  }

  u8(what: string): number {
    return this.#buffer[this.#need(1, what)] as number;
  }

  u16(what: string): number {
    return this.#buffer.readUInt16BE(this.#need(2, what));
  }

  u32(what: string): number {
    return this.#buffer.readUInt32BE(this.#need(4, what));
  }

  u64(what: string): bigint {
    return this.#buffer.readBigUInt64BE(this.#need(8, what));
  }

  f64(what: string): number {
    return this.#buffer.readDoubleBE(this.#need(8, what));
  }

  /** A finite, non-negative integer carried as f64 (offsets, timestamps). */
  integer(what: string): number {
    const value = this.f64(what);
    if (!Number.isSafeInteger(value) || value < 0)
      throw protocolError(`${what} is not a non-negative integer`);
    return value;
  }

  boolean(what: string): boolean {
    const value = this.u8(what);
    if (value > 1) throw protocolError(`${what} is not 0 or 1`);
    return value === 1;
  }

  string16(what: string): string {
    const length = this.u16(what);
    const at = this.#need(length, what);
    return this.#buffer.toString('utf8', at, at + length);
  }

  /** string16 for strings that usually repeat (subjects): see RecentString. */
  recentString16(what: string, recent: RecentString): string {
    const length = this.u16(what);
    const at = this.#need(length, what);
    return recent.decode(this.#buffer, at, at + length);
  }

  string32(what: string): string {
    const length = this.u32(what);
    const at = this.#need(length, what);
    return this.#buffer.toString('utf8', at, at + length);
  }

  bytes32(what: string): Buffer {
    const length = this.u32(what);
    const at = this.#need(length, what);
    return this.#buffer.subarray(at, at + length);
  }

  /** A count of items that each take at least `bytesEach` bytes: rejects counts the frame cannot hold. */
  count32(what: string, bytesEach: number): number {
    const count = this.u32(what);
    if (count * bytesEach > this.remaining) throw protocolError(`${what} ${count} does not fit in the frame`);
    return count;
  }

  count16(what: string, bytesEach: number): number {
    const count = this.u16(what);
    if (count * bytesEach > this.remaining) throw protocolError(`${what} ${count} does not fit in the frame`);
    return count;
  }

  end(what: string): void {
    if (this.#position !== this.#end) {
      throw protocolError(`${this.#end - this.#position} unexpected bytes after ${what}`);
    }
  }
}
