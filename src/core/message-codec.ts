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
import { RecentString, utf8ByteLength, writeUtf8 } from '../common/utf8.js';
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

/**
 * The encoded size of `message` in bytes: what encodeMessageInto writes. Asserts what
 * createMessage guarantees (lengths that fit their prefixes, priority 0–9).
 */
export function measureMessage(message: Message): number {
  const subjectBytes = subjectByteLength(message.subject);
  const idBytes = utf8ByteLength(message.id);
  assert(subjectBytes <= u16Max && idBytes <= u16Max, 'subject and id fit a u16 length');
  let size = fixedBytes + 2 + subjectBytes + 2 + idBytes + 2 + 4 + message.body.length;
  if (message.key !== undefined) size += 2 + propertyBytes(message.key);
  if (message.expiresAtMs !== undefined) size += 8;
  if (message.deliverAfterMs !== undefined) size += 8;
  if (message.correlationId !== undefined) size += 2 + propertyBytes(message.correlationId);
  if (message.replyTo !== undefined) size += 2 + propertyBytes(message.replyTo);
  if (message.contentType !== undefined) size += 2 + propertyBytes(message.contentType);
  if (message.headers !== emptyHeaders) {
    const headerNames = Object.keys(message.headers);
    assert(headerNames.length <= u16Max, 'header count fits a u16');
    for (const name of headerNames) {
      size += 2 + propertyBytes(name) + 1 + headerValueBytes(message.headers[name]!);
    }
  }
  assert(
    Number.isInteger(message.priority) && message.priority >= 0 && message.priority <= 9,
    'priority 0–9',
  );
  return size;
}

let lastSubject = '';
let lastSubjectBytes = 0;

/** A run of messages mostly shares one subject, often one string: measured once per run. */
function subjectByteLength(subject: string): number {
  if (subject !== lastSubject) {
    lastSubjectBytes = utf8ByteLength(subject);
    lastSubject = subject;
  }
  return lastSubjectBytes;
}

function propertyBytes(text: string): number {
  const bytes = utf8ByteLength(text);
  assert(bytes <= u16Max, 'message properties fit a u16 length');
  return bytes;
}

/** Encodes `message` into a new buffer of exactly its measured size. */
export function encodeMessage(message: Message): Buffer {
  const size = measureMessage(message);
  const bytes = Buffer.allocUnsafe(size);
  const end = encodeMessageInto(message, bytes, 0);
  assert(end === size, 'encoded exactly the measured size');
  return bytes;
}

/**
 * Encodes `message` at `target[start…]`, which has room for measureMessage(message) bytes,
 * and returns the position after it: a log batch is encoded with its messages written in
 * place, without a buffer per message.
 */
export function encodeMessageInto(message: Message, target: Buffer, start: number): number {
  let flags = message.persistent ? Flag.persistent : 0;
  if (message.key !== undefined) flags |= Flag.key;
  if (message.expiresAtMs !== undefined) flags |= Flag.expiresAtMs;
  if (message.deliverAfterMs !== undefined) flags |= Flag.deliverAfterMs;
  if (message.correlationId !== undefined) flags |= Flag.correlationId;
  if (message.replyTo !== undefined) flags |= Flag.replyTo;
  if (message.contentType !== undefined) flags |= Flag.contentType;
  target[start] = messageFormatVersion;
  target[start + 1] = flags;
  target[start + 2] = message.priority;
  target[start + 3] = 0;
  let position = target.writeDoubleLE(message.timestampMs, start + 4);
  if (message.expiresAtMs !== undefined) position = target.writeDoubleLE(message.expiresAtMs, position);
  if (message.deliverAfterMs !== undefined) position = target.writeDoubleLE(message.deliverAfterMs, position);
  position = writeString16(target, position, message.subject);
  position = writeString16(target, position, message.id);
  if (message.key !== undefined) position = writeString16(target, position, message.key);
  if (message.correlationId !== undefined) position = writeString16(target, position, message.correlationId);
  if (message.replyTo !== undefined) position = writeString16(target, position, message.replyTo);
  if (message.contentType !== undefined) position = writeString16(target, position, message.contentType);
  if (message.headers === emptyHeaders) {
    position = target.writeUInt16LE(0, position);
  } else {
    const headerNames = Object.keys(message.headers);
    position = target.writeUInt16LE(headerNames.length, position);
    for (const name of headerNames) {
      position = writeString16(target, position, name);
      position = writeHeaderValue(target, position, message.headers[name]!);
    }
  }
  position = target.writeUInt32LE(message.body.length, position);
  target.set(message.body, position);
  return position + message.body.length;
}

/** Subjects repeat from one stored message to the next: decoded once per run. */
const recentSubject = new RecentString();

/** Decodes the message encoded at `bytes[start, end)` (the whole of `bytes` by default). */
export function decodeMessage(bytes: Buffer, start = 0, end = bytes.length): Message {
  const reader = sharedReader.reset(bytes, start, end);
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
  const subject = reader.recentString16(recentSubject);
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
  if (reader.position !== end) reader.corrupt(`${end - reader.position} bytes after the body`);
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
  if (typeof value === 'string') return 4 + utf8ByteLength(value);
  if (typeof value === 'number') return 8;
  if (typeof value === 'boolean') return 0;
  assert(Buffer.isBuffer(value), 'a header value is a string, number, boolean or Buffer');
  return 4 + value.length;
}

/** A u16 byte length, then the UTF-8 bytes (the length was checked when measured). */
function writeString16(bytes: Buffer, position: number, text: string): number {
  const written = writeUtf8(bytes, position + 2, text);
  bytes.writeUInt16LE(written, position);
  return position + 2 + written;
}

function writeHeaderValue(bytes: Buffer, position: number, value: HeaderValue): number {
  if (typeof value === 'string') {
    bytes[position] = HeaderType.string;
    const written = writeUtf8(bytes, position + 5, value);
    bytes.writeUInt32LE(written, position + 1);
    return position + 5 + written;
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
  #bytes: Buffer = Buffer.alloc(0);
  #start = 0;
  #end = 0;

  /** Starts reading `bytes[start, end)`; one reader serves every decode (they never nest). */
  reset(bytes: Buffer, start: number, end: number): this {
    assert(0 <= start && start <= end && end <= bytes.length, 'a record range inside its bytes');
    this.#bytes = bytes;
    this.#start = start;
    this.#end = end;
    this.position = start;
    return this;
  }

  corrupt(why: string): never {
    throw new WeirError(
      ErrorCode.CorruptLog,
      `corrupt message record at byte ${this.position - this.#start}: ${why}`,
    );
  }

  #need(count: number): void {
    if (this.position + count > this.#end) {
      this.corrupt(`needs ${count} bytes, ${this.#end - this.position} left`);
    }
  }

  recentString16(recent: RecentString): string {
    const length = this.u16();
    this.#need(length);
    const text = recent.decode(this.#bytes, this.position, this.position + length);
    this.position += length;
    return text;
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

const sharedReader = new Reader();
