// A growable byte writer for encoding frames. Big-endian throughout (network order).
// Several frames may be encoded into one writer back to back, so a client or a session can
// hand the socket one buffer per tick however many frames it produced.

import { assert } from '../../../common/assert.js';
import { writeUtf8 } from '../../../common/utf8.js';

const initialBytes = 4096;
/** What `detach` copies rather than hands over. */
const copyBytesMax = 16 * 1024;

export class BufferWriter {
  #buffer: Buffer;
  #position = 0;

  constructor(capacityBytes = initialBytes) {
    this.#buffer = Buffer.allocUnsafe(capacityBytes);
  }

  get position(): number {
    return this.#position;
  }

  /** Makes room for `bytes` more bytes. */
  ensure(bytes: number): void {
    const needed = this.#position + bytes;
    if (needed <= this.#buffer.length) return;
    let capacity = this.#buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.#buffer.copy(grown, 0, 0, this.#position);
    this.#buffer = grown;
  }

  u8(value: number): void {
    this.ensure(1);
    this.#buffer[this.#position++] = value;
  }

  u16(value: number): void {
    this.ensure(2);
    this.#buffer.writeUInt16BE(value, this.#position);
    this.#position += 2;
  }

  u32(value: number): void {
    this.ensure(4);
    this.#buffer.writeUInt32BE(value, this.#position);
    this.#position += 4;
  }

  u64(value: bigint): void {
    this.ensure(8);
    this.#buffer.writeBigUInt64BE(value, this.#position);
    this.#position += 8;
  }

  f64(value: number): void {
    this.ensure(8);
    this.#buffer.writeDoubleBE(value, this.#position);
    this.#position += 8;
  }

  /** u16 byte length, then UTF-8. Strings longer than 65,535 bytes are a programmer error here. */
  string16(value: string): void {
    this.ensure(2 + value.length * 3);
    const written = writeUtf8(this.#buffer, this.#position + 2, value);
    assert(written <= 0xffff, 'a short string is at most 65,535 bytes');
    this.#buffer.writeUInt16BE(written, this.#position);
    this.#position += 2 + written;
  }

  /** u32 byte length, then UTF-8. */
  string32(value: string): void {
    this.ensure(4 + value.length * 3);
    const written = writeUtf8(this.#buffer, this.#position + 4, value);
    this.#buffer.writeUInt32BE(written, this.#position);
    this.#position += 4 + written;
  }

  /** u32 byte length, then the bytes. */
  bytes32(value: Uint8Array): void {
    this.ensure(4 + value.length);
    this.#buffer.writeUInt32BE(value.length, this.#position);
    this.#buffer.set(value, this.#position + 4);
    this.#position += 4 + value.length;
  }

  /** Writes a u32 at an earlier position (a length prefix filled in afterwards). */
  patchU32(position: number, value: number): void {
    assert(position + 4 <= this.#position, 'patch inside what was written');
    this.#buffer.writeUInt32BE(value, position);
  }

  patchU8(position: number, value: number): void {
    assert(position < this.#position, 'patch inside what was written');
    this.#buffer[position] = value;
  }

  patchU16(position: number, value: number): void {
    assert(position + 2 <= this.#position, 'patch inside what was written');
    this.#buffer.writeUInt16BE(value, position);
  }

  /** The bytes written so far, as a copy the caller owns; the writer starts over. */
  take(): Buffer {
    const result = Buffer.from(this.#buffer.subarray(0, this.#position));
    this.#position = 0;
    return result;
  }

  /**
   * The bytes written so far, for a socket write; the writer starts over, and the returned
   * bytes stay valid. Up to copyBytesMax they are copied (small copies come from Node's
   * shared pool) and the writer keeps its buffer; past that the buffer itself is handed over
   * and the writer starts on a fresh one. A fresh 64 KiB buffer for every small write would
   * cost far more than the copy: at thousands of writes a second those short-lived external
   * allocations drive V8 into frequent full collections, whose pauses are a latency tail.
   */
  detach(): Buffer {
    if (this.#position <= copyBytesMax) return this.take();
    const result = this.#buffer.subarray(0, this.#position);
    this.#buffer = Buffer.allocUnsafe(Math.max(initialBytes, Math.min(this.#buffer.length, 1 << 20)));
    this.#position = 0;
    return result;
  }
}
