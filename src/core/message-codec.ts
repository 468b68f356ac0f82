// The binary form of a Message: the value of a log record (the record key is the message
// key, kept here too so a record decodes on its own). Pure: bytes in, message out.
//
// Byte layout, little-endian; "str16" is a u16 byte length then UTF-8 bytes, "bytes32" a
// u32 byte length then the bytes:
//
//   offset  size      field
//   0       1         format version, 1
//   1       1         flags: bit 0 persistent, bit 1 key, bit 2 expiresAtMs,
//                     bit 3 deliverAfterMs, bit 4 correlationId, bit 5 replyTo,
//                     bit 6 contentType (bits 1–6: the field is present); bit 7 is 0
//   2       1         priority, 0–9
//   3       1         reserved, 0
//   4       8         timestampMs, float64
//   ·       8         expiresAtMs, float64           if flag bit 2
//   ·       8         deliverAfterMs, float64        if flag bit 3
//   ·       str16     subject
//   ·       str16     id
//   ·       str16     key                            if flag bit 1
//   ·       str16     correlationId                  if flag bit 4
//   ·       str16     replyTo                        if flag bit 5
//   ·       str16     contentType                    if flag bit 6
//   ·       2         header count, u16
//   then per header:
//   ·       str16     name
//   ·       1         value type: 0 string, 1 number, 2 false, 3 true, 4 bytes
//   ·       ·         value: bytes32 of UTF-8 (string), float64 (number), nothing (false,
//                     true), bytes32 (bytes)
//   then:
//   ·       bytes32   body; it ends the record exactly
//
// Times are float64 rather than int64 so that writing and reading them needs no BigInt;
// every millisecond time up to 2^53 is exact. Header values keep their types. Strings are
// UTF-8, so a string with a lone surrogate (not valid Unicode) comes back with U+FFFD in its
// place; subjects cannot contain one (validateSubject). Decoding views the body and Buffer
// header values as slices of the record bytes, never copies: a decoded message keeps the
// record's buffer alive.

import { assert } from '../common/assert.js';
import { ErrorCode, WeirError } from '../common/errors.js';
import type { HeaderValue, Headers, Message } from './api.js';
import { emptyHeaders, setHeader } from './message.js';

export const messageFormatVersion = 1;

const Flag = {
  persistent: 1 << 0,
  key: 1 << 1,
  expiresAtMs: 1 << 2,
  deliverAfterMs: 1 << 3,
  correlationId: 1 << 4,
  replyTo: 1 << 5,
  contentType: 1 << 6,
} as const;
const knownFlags = 0x7f;

const HeaderType = {
  string: 0,
  number: 1,
  false: 2,
  true: 3,
  bytes: 4,
} as const;

const fixedBytes = 4 + 8;
const u16Max = 0xffff;

export function encodeMessage(message: Message): Buffer {
  const subjectBytes = Buffer.byteLength(message.subject, 'utf8');
  const idBytes = Buffer.byteLength(message.id, 'utf8');
  let flags = message.persistent ? Flag.persistent : 0;
  let size = fixedBytes + 2 + subjectBytes + 2 + idBytes + 2 + 4 + message.body.length;
  assert(subjectBytes <= u16Max && idBytes <= u16Max, 'subject and id fit a u16 length');
  let keyBytes = 0;
  if (message.key !== undefined) {
    flags |= Flag.key;
    keyBytes = Buffer.byteLength(message.key, 'utf8');
    size += 2 + keyBytes;
  }
  if (message.expiresAtMs !== undefined) {
    flags |= Flag.expiresAtMs;
    size += 8;
  }
  if (message.deliverAfterMs !== undefined) {
    flags |= Flag.deliverAfterMs;
    size += 8;
  }
  let correlationIdBytes = 0;
  if (message.correlationId !== undefined) {
    flags |= Flag.correlationId;
    correlationIdBytes = Buffer.byteLength(message.correlationId, 'utf8');
    size += 2 + correlationIdBytes;
  }
  let replyToBytes = 0;
  if (message.replyTo !== undefined) {
    flags |= Flag.replyTo;
    replyToBytes = Buffer.byteLength(message.replyTo, 'utf8');
    size += 2 + replyToBytes;
  }
  let contentTypeBytes = 0;
  if (message.contentType !== undefined) {
    flags |= Flag.contentType;
    contentTypeBytes = Buffer.byteLength(message.contentType, 'utf8');
    size += 2 + contentTypeBytes;
  }
  assert(
    keyBytes <= u16Max &&
      correlationIdBytes <= u16Max &&
      replyToBytes <= u16Max &&
      contentTypeBytes <= u16Max,
    'message properties fit a u16 length',
  );
  const headerNames = message.headers === emptyHeaders ? [] : Object.keys(message.headers);
  assert(headerNames.length <= u16Max, 'header count fits a u16');
  for (const name of headerNames) {
    const value = message.headers[name]!;
    size += 2 + Buffer.byteLength(name, 'utf8') + 1 + headerValueBytes(value);
  }
  assert(
    Number.isInteger(message.priority) && message.priority >= 0 && message.priority <= 9,
    'priority 0–9',
  );

  const bytes = Buffer.allocUnsafe(size);
  bytes[0] = messageFormatVersion;
  bytes[1] = flags;
  bytes[2] = message.priority;
  bytes[3] = 0;
  let position = bytes.writeDoubleLE(message.timestampMs, 4);
  if (message.expiresAtMs !== undefined) position = bytes.writeDoubleLE(message.expiresAtMs, position);
  if (message.deliverAfterMs !== undefined) position = bytes.writeDoubleLE(message.deliverAfterMs, position);
  position = writeString16(bytes, position, message.subject, subjectBytes);
  position = writeString16(bytes, position, message.id, idBytes);
  if (message.key !== undefined) position = writeString16(bytes, position, message.key, keyBytes);
  if (message.correlationId !== undefined) {
    position = writeString16(bytes, position, message.correlationId, correlationIdBytes);
  }
  if (message.replyTo !== undefined) position = writeString16(bytes, position, message.replyTo, replyToBytes);
  if (message.contentType !== undefined) {
    position = writeString16(bytes, position, message.contentType, contentTypeBytes);
  }
  position = bytes.writeUInt16LE(headerNames.length, position);
  for (const name of headerNames) {
    position = writeString16(bytes, position, name, Buffer.byteLength(name, 'utf8'));
    position = writeHeaderValue(bytes, position, message.headers[name]!);
  }
  position = bytes.writeUInt32LE(message.body.length, position);
  position += message.body.copy(bytes, position);
  assert(position === size, 'encoded exactly the computed size');
  return bytes;
}

export function decodeMessage(bytes: Buffer): Message {
  const reader = new Reader(bytes);
  const version = reader.u8();
  if (version !== messageFormatVersion) reader.corrupt(`unknown message format version ${version}`);
  const flags = reader.u8();
  if ((flags & ~knownFlags) !== 0) reader.corrupt(`unknown flags 0x${flags.toString(16)}`);
  const priority = reader.u8();
  if (priority > 9) reader.corrupt(`priority ${priority} is out of range`);
  reader.u8();
  const timestampMs = reader.f64();
  const expiresAtMs = (flags & Flag.expiresAtMs) !== 0 ? reader.f64() : undefined;
  const deliverAfterMs = (flags & Flag.deliverAfterMs) !== 0 ? reader.f64() : undefined;
  const subject = reader.string16();
  const id = reader.string16();
  const key = (flags & Flag.key) !== 0 ? reader.string16() : undefined;
  const correlationId = (flags & Flag.correlationId) !== 0 ? reader.string16() : undefined;
  const replyTo = (flags & Flag.replyTo) !== 0 ? reader.string16() : undefined;
  const contentType = (flags & Flag.contentType) !== 0 ? reader.string16() : undefined;
  const headerCount = reader.u16();
  let headers: Headers = emptyHeaders;
  if (headerCount > 0) {
    const built: Record<string, HeaderValue> = {};
    for (let index = 0; index < headerCount; index++) {
      const name = reader.string16();
      setHeader(built, name, reader.headerValue());
    }
    headers = built;
  }
  const body = reader.bytes32();
  if (reader.position !== bytes.length)
    reader.corrupt(`${bytes.length - reader.position} bytes after the body`);
  return {
    subject,
    key,
    headers,
    body,
    id,
    timestampMs,
    priority,
    expiresAtMs,
    deliverAfterMs,
    correlationId,
    replyTo,
    contentType,
    persistent: (flags & Flag.persistent) !== 0,
  };
}

/**
 * The compaction key of an encoded message, for `retention: compact` streams: its key, or
 * its subject when it has none (prefixed `k` or `s`, so the two never collide). Read from
 * the bytes without decoding the message.
 */
export function messageCompactionKey(bytes: Buffer): Buffer {
  const fields = skipToKey(bytes);
  if (fields.keyStart >= 0) {
    return Buffer.concat([keyPrefix, bytes.subarray(fields.keyStart, fields.keyStart + fields.keyLength)]);
  }
  return Buffer.concat([
    subjectPrefix,
    bytes.subarray(fields.subjectStart, fields.subjectStart + fields.subjectLength),
  ]);
}

const keyPrefix = Buffer.from('k');
const subjectPrefix = Buffer.from('s');

/** Whether an encoded message has an empty body: a tombstone in a compacted stream. */
export function messageBodyIsEmpty(bytes: Buffer): boolean {
  const flags = bytes[1]!;
  const fields = skipToKey(bytes);
  let position = fields.afterId;
  const skipString16 = (): void => {
    position += 2 + bytes.readUInt16LE(position);
  };
  if ((flags & Flag.key) !== 0) skipString16();
  if ((flags & Flag.correlationId) !== 0) skipString16();
  if ((flags & Flag.replyTo) !== 0) skipString16();
  if ((flags & Flag.contentType) !== 0) skipString16();
  const headerCount = bytes.readUInt16LE(position);
  position += 2;
  for (let index = 0; index < headerCount; index++) {
    skipString16();
    const type = bytes[position]!;
    position += 1;
    if (type === HeaderType.string || type === HeaderType.bytes) position += 4 + bytes.readUInt32LE(position);
    else if (type === HeaderType.number) position += 8;
  }
  const bodyLength = bytes.readUInt32LE(position);
  assert(position + 4 + bodyLength === bytes.length, 'the body ends the record');
  return bodyLength === 0;
}

function skipToKey(bytes: Buffer): {
  subjectStart: number;
  subjectLength: number;
  afterId: number;
  keyStart: number;
  keyLength: number;
} {
  assert(bytes[0] === messageFormatVersion, 'a stored message has a known format');
  const flags = bytes[1]!;
  let position = fixedBytes;
  if ((flags & Flag.expiresAtMs) !== 0) position += 8;
  if ((flags & Flag.deliverAfterMs) !== 0) position += 8;
  const subjectLength = bytes.readUInt16LE(position);
  const subjectStart = position + 2;
  position = subjectStart + subjectLength;
  const afterId = position + 2 + bytes.readUInt16LE(position);
  if ((flags & Flag.key) === 0) return { subjectStart, subjectLength, afterId, keyStart: -1, keyLength: 0 };
  return {
    subjectStart,
    subjectLength,
    afterId,
    keyStart: afterId + 2,
    keyLength: bytes.readUInt16LE(afterId),
  };
}

function headerValueBytes(value: HeaderValue): number {
  if (typeof value === 'string') return 4 + Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') return 8;
  if (typeof value === 'boolean') return 0;
  assert(Buffer.isBuffer(value), 'a header value is a string, number, boolean or Buffer');
  return 4 + value.length;
}

function writeString16(bytes: Buffer, position: number, text: string, byteLength: number): number {
  position = bytes.writeUInt16LE(byteLength, position);
  const written = byteLength === 0 ? 0 : bytes.write(text, position, byteLength, 'utf8');
  assert(written === byteLength, 'wrote the measured UTF-8 length');
  return position + byteLength;
}

function writeHeaderValue(bytes: Buffer, position: number, value: HeaderValue): number {
  if (typeof value === 'string') {
    bytes[position] = HeaderType.string;
    const length = Buffer.byteLength(value, 'utf8');
    position = bytes.writeUInt32LE(length, position + 1);
    return position + (length === 0 ? 0 : bytes.write(value, position, length, 'utf8'));
  }
  if (typeof value === 'number') {
    bytes[position] = HeaderType.number;
    return bytes.writeDoubleLE(value, position + 1);
  }
  if (typeof value === 'boolean') {
    bytes[position] = value ? HeaderType.true : HeaderType.false;
    return position + 1;
  }
  bytes[position] = HeaderType.bytes;
  position = bytes.writeUInt32LE(value.length, position + 1);
  return position + value.copy(bytes, position);
}

/** Bounds-checked reads; anything malformed is WEIR_CORRUPT_LOG, never a crash. */
class Reader {
  position = 0;
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  corrupt(why: string): never {
    throw new WeirError(ErrorCode.CorruptLog, `corrupt message record at byte ${this.position}: ${why}`);
  }

  #need(count: number): void {
    if (this.position + count > this.#bytes.length) {
      this.corrupt(`needs ${count} bytes, ${this.#bytes.length - this.position} left`);
    }
  }

  u8(): number {
    this.#need(1);
    return this.#bytes[this.position++]!;
  }

  u16(): number {
    this.#need(2);
    const value = this.#bytes.readUInt16LE(this.position);
    this.position += 2;
    return value;
  }

  u32(): number {
    this.#need(4);
    const value = this.#bytes.readUInt32LE(this.position);
    this.position += 4;
    return value;
  }

  f64(): number {
    this.#need(8);
    const value = this.#bytes.readDoubleLE(this.position);
    this.position += 8;
    return value;
  }

  string16(): string {
    const length = this.u16();
    this.#need(length);
    const text = this.#bytes.toString('utf8', this.position, this.position + length);
    this.position += length;
    return text;
  }

  bytes32(): Buffer {
    const length = this.u32();
    this.#need(length);
    const slice = this.#bytes.subarray(this.position, this.position + length);
    this.position += length;
    return slice;
  }

  headerValue(): HeaderValue {
    const type = this.u8();
    switch (type) {
      case HeaderType.string: {
        const length = this.u32();
        this.#need(length);
        const text = this.#bytes.toString('utf8', this.position, this.position + length);
        this.position += length;
        return text;
      }
      case HeaderType.number:
        return this.f64();
      case HeaderType.false:
        return false;
      case HeaderType.true:
        return true;
      case HeaderType.bytes:
        return this.bytes32();
      default:
        return this.corrupt(`unknown header value type ${type}`);
    }
  }
}
