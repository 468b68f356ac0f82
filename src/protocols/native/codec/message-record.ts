// Messages on the wire: the record a PUBLISH frame carries for each message, and the record
// a DELIVER / FETCH_RESULT / LIVE_DELIVER frame carries. Both share one layout, so a
// message crosses the broker without being re-shaped; only which optional fields are
// present differs.
//
// The layout is the native protocol's own rather than the storage record's (the codec may
// import only common/, and the wire must stay stable when the log format evolves), but it
// carries the same fields as the core's message model (DESIGN.md §1), nothing lost.
//
//   u16      presence bits (below)
//   str16    subject
//   ...      the optional fields whose bit is set, in bit order
//   bytes32  body
//
//   bit  field            encoding
//   0    key              str16
//   1    id               str16
//   2    priority         u8 (0–9)
//   3    ttlMs            f64            (publish only: relative to the broker's clock)
//   4    expiresAtMs      f64            (ms since the Unix epoch)
//   5    delayMs          f64            (publish only: relative to the broker's clock)
//   6    deliverAfterMs   f64
//   7    correlationId    str16
//   8    replyTo          str16
//   9    contentType      str16
//   10   persistent is given (no bytes)
//   11   persistent value (no bytes; meaningful with bit 10)
//   12   timestampMs      f64            (delivered messages)
//   13   headers          u16 count, then per header: str16 name, u8 kind, value
//                         kind 1 string (str32), 2 number (f64), 3 boolean (u8 0/1), 4 bytes (bytes32)
//   14   producer stamp   u64 producer id, u16 epoch, u32 sequence (publish only: an
//                         idempotent producer's stamp, see docs/protocol.md)
//   15   reserved, must be 0
//
// str16 is a u16 byte length then UTF-8; str32 and bytes32 a u32 length then the bytes.

import type { BufferReader } from './buffer-reader.js';
import { protocolError } from './buffer-reader.js';
import type { BufferWriter } from './buffer-writer.js';
import { RecentString } from '../../../common/utf8.js';

export type WireHeaderValue = string | number | boolean | Buffer;
export type WireHeaders = Readonly<Record<string, WireHeaderValue>>;

/** What a publisher sends: the shape of the core's PublishInput. */
export interface WirePublish {
  readonly subject: string;
  readonly body: Buffer | Uint8Array | string;
  readonly key?: string;
  readonly headers?: WireHeaders;
  readonly id?: string;
  readonly priority?: number;
  readonly ttlMs?: number;
  readonly expiresAtMs?: number;
  readonly delayMs?: number;
  readonly deliverAfterMs?: number;
  readonly correlationId?: string;
  readonly replyTo?: string;
  readonly contentType?: string;
  readonly persistent?: boolean;
  /** An idempotent producer's stamp: a retried sequence is confirmed, not stored twice. */
  readonly producer?: WireProducerStamp;
}

export interface WireProducerStamp {
  readonly id: bigint;
  readonly epoch: number;
  readonly sequence: number;
}

/** A stored or live message as delivered: the shape of the core's Message. */
export interface WireMessage {
  readonly subject: string;
  readonly key: string | undefined;
  readonly headers: WireHeaders;
  readonly body: Buffer;
  readonly id: string;
  readonly timestampMs: number;
  readonly priority: number;
  readonly expiresAtMs: number | undefined;
  readonly deliverAfterMs: number | undefined;
  readonly correlationId: string | undefined;
  readonly replyTo: string | undefined;
  readonly contentType: string | undefined;
  readonly persistent: boolean;
}

export const MessageBits = {
  key: 1 << 0,
  id: 1 << 1,
  priority: 1 << 2,
  ttlMs: 1 << 3,
  expiresAtMs: 1 << 4,
  delayMs: 1 << 5,
  deliverAfterMs: 1 << 6,
  correlationId: 1 << 7,
  replyTo: 1 << 8,
  contentType: 1 << 9,
  persistentGiven: 1 << 10,
  persistentValue: 1 << 11,
  timestampMs: 1 << 12,
  headers: 1 << 13,
  producer: 1 << 14,
} as const;

const reservedBits = 0x8000;

export const HeaderKind = { string: 1, number: 2, boolean: 3, bytes: 4 } as const;

const emptyHeaders: WireHeaders = Object.freeze({});
/** A producer's run of publishes mostly shares one subject: decoded once per run. */
const recentPublishSubject = new RecentString();
const recentMessageSubject = new RecentString();
/** Stands in for a publish record's body until it is read (the body comes last). */
const bodyPlaceholder = Buffer.alloc(0);

function writeHeaders(writer: BufferWriter, headers: WireHeaders): void {
  const names = Object.keys(headers);
  writer.u16(names.length);
  for (const name of names) {
    const value = headers[name] as WireHeaderValue;
    writer.string16(name);
    if (typeof value === 'string') {
      writer.u8(HeaderKind.string);
      writer.string32(value);
    } else if (typeof value === 'number') {
      writer.u8(HeaderKind.number);
      writer.f64(value);
    } else if (typeof value === 'boolean') {
      writer.u8(HeaderKind.boolean);
      writer.u8(value ? 1 : 0);
    } else {
      writer.u8(HeaderKind.bytes);
      writer.bytes32(value);
    }
  }
}

function readHeaders(reader: BufferReader): WireHeaders {
  // The smallest header: empty name (2) + kind (1) + boolean (1).
  const count = reader.count16('header count', 4);
  const headers: Record<string, WireHeaderValue> = {};
  for (let index = 0; index < count; index++) {
    const name = reader.string16('header name');
    if (name === '__proto__') throw protocolError('header name __proto__ is not allowed');
    const kind = reader.u8('header kind');
    switch (kind) {
      case HeaderKind.string:
        headers[name] = reader.string32('header value');
        break;
      case HeaderKind.number:
        headers[name] = reader.f64('header value');
        break;
      case HeaderKind.boolean:
        headers[name] = reader.boolean('header value');
        break;
      case HeaderKind.bytes:
        headers[name] = reader.bytes32('header value');
        break;
      default:
        throw protocolError(`header "${name}" has unknown kind ${kind}`);
    }
  }
  return headers;
}

function hasHeaders(headers: WireHeaders | undefined): headers is WireHeaders {
  if (headers === undefined) return false;
  for (const _ in headers) return true;
  return false;
}

export function writePublishRecord(writer: BufferWriter, input: WirePublish): void {
  const flagsAt = writer.position;
  writer.u16(0);
  writer.string16(input.subject);
  let bits = 0;
  if (input.key !== undefined) {
    bits |= MessageBits.key;
    writer.string16(input.key);
  }
  if (input.id !== undefined) {
    bits |= MessageBits.id;
    writer.string16(input.id);
  }
  if (input.priority !== undefined) {
    bits |= MessageBits.priority;
    writer.u8(input.priority);
  }
  if (input.ttlMs !== undefined) {
    bits |= MessageBits.ttlMs;
    writer.f64(input.ttlMs);
  }
  if (input.expiresAtMs !== undefined) {
    bits |= MessageBits.expiresAtMs;
    writer.f64(input.expiresAtMs);
  }
  if (input.delayMs !== undefined) {
    bits |= MessageBits.delayMs;
    writer.f64(input.delayMs);
  }
  if (input.deliverAfterMs !== undefined) {
    bits |= MessageBits.deliverAfterMs;
    writer.f64(input.deliverAfterMs);
  }
  if (input.correlationId !== undefined) {
    bits |= MessageBits.correlationId;
    writer.string16(input.correlationId);
  }
  if (input.replyTo !== undefined) {
    bits |= MessageBits.replyTo;
    writer.string16(input.replyTo);
  }
  if (input.contentType !== undefined) {
    bits |= MessageBits.contentType;
    writer.string16(input.contentType);
  }
  if (input.persistent !== undefined) {
    bits |= MessageBits.persistentGiven;
    if (input.persistent) bits |= MessageBits.persistentValue;
  }
  if (hasHeaders(input.headers)) {
    bits |= MessageBits.headers;
    writeHeaders(writer, input.headers);
  }
  if (input.producer !== undefined) {
    bits |= MessageBits.producer;
    writer.u64(input.producer.id);
    writer.u16(input.producer.epoch);
    writer.u32(input.producer.sequence);
  }
  if (typeof input.body === 'string') writer.string32(input.body);
  else writer.bytes32(input.body);
  writer.patchU16(flagsAt, bits);
}

/** Decodes a publish record; absent optional fields are left out of the object. */
export function readPublishRecord(reader: BufferReader): WirePublish {
  const bits = reader.u16('message presence bits');
  if ((bits & reservedBits) !== 0 || (bits & MessageBits.timestampMs) !== 0) {
    throw protocolError(`publish record has reserved presence bits set (0x${bits.toString(16)})`);
  }
  const subject = reader.recentString16('subject', recentPublishSubject);
  const record: {
    -readonly [K in keyof WirePublish]: WirePublish[K];
  } = { subject, body: bodyPlaceholder };
  if (bits & MessageBits.key) record.key = reader.string16('key');
  if (bits & MessageBits.id) record.id = reader.string16('message id');
  if (bits & MessageBits.priority) record.priority = reader.u8('priority');
  if (bits & MessageBits.ttlMs) record.ttlMs = reader.f64('ttlMs');
  if (bits & MessageBits.expiresAtMs) record.expiresAtMs = reader.f64('expiresAtMs');
  if (bits & MessageBits.delayMs) record.delayMs = reader.f64('delayMs');
  if (bits & MessageBits.deliverAfterMs) record.deliverAfterMs = reader.f64('deliverAfterMs');
  if (bits & MessageBits.correlationId) record.correlationId = reader.string16('correlation id');
  if (bits & MessageBits.replyTo) record.replyTo = reader.string16('reply-to');
  if (bits & MessageBits.contentType) record.contentType = reader.string16('content type');
  if (bits & MessageBits.persistentGiven) record.persistent = (bits & MessageBits.persistentValue) !== 0;
  else if (bits & MessageBits.persistentValue)
    throw protocolError('persistent value without persistent given');
  if (bits & MessageBits.headers) record.headers = readHeaders(reader);
  if (bits & MessageBits.producer) {
    const id = reader.u64('producer id');
    const epoch = reader.u16('producer epoch');
    record.producer = { id, epoch, sequence: reader.u32('producer sequence') };
  }
  record.body = reader.bytes32('body');
  return record;
}

export function writeMessageRecord(writer: BufferWriter, message: WireMessage): void {
  const flagsAt = writer.position;
  writer.u16(0);
  writer.string16(message.subject);
  let bits = MessageBits.id | MessageBits.priority | MessageBits.persistentGiven | MessageBits.timestampMs;
  if (message.key !== undefined) {
    bits |= MessageBits.key;
    writer.string16(message.key);
  }
  writer.string16(message.id);
  writer.u8(message.priority);
  if (message.expiresAtMs !== undefined) {
    bits |= MessageBits.expiresAtMs;
    writer.f64(message.expiresAtMs);
  }
  if (message.deliverAfterMs !== undefined) {
    bits |= MessageBits.deliverAfterMs;
    writer.f64(message.deliverAfterMs);
  }
  if (message.correlationId !== undefined) {
    bits |= MessageBits.correlationId;
    writer.string16(message.correlationId);
  }
  if (message.replyTo !== undefined) {
    bits |= MessageBits.replyTo;
    writer.string16(message.replyTo);
  }
  if (message.contentType !== undefined) {
    bits |= MessageBits.contentType;
    writer.string16(message.contentType);
  }
  if (message.persistent) bits |= MessageBits.persistentValue;
  writer.f64(message.timestampMs);
  if (hasHeaders(message.headers)) {
    bits |= MessageBits.headers;
    writeHeaders(writer, message.headers);
  }
  writer.bytes32(message.body);
  writer.patchU16(flagsAt, bits);
}

const requiredMessageBits =
  MessageBits.id | MessageBits.priority | MessageBits.persistentGiven | MessageBits.timestampMs;

export function readMessageRecord(reader: BufferReader): WireMessage {
  const bits = reader.u16('message presence bits');
  if (
    (bits & reservedBits) !== 0 ||
    (bits & (MessageBits.ttlMs | MessageBits.delayMs | MessageBits.producer)) !== 0
  ) {
    throw protocolError(`message record has reserved presence bits set (0x${bits.toString(16)})`);
  }
  if ((bits & requiredMessageBits) !== requiredMessageBits) {
    throw protocolError('message record lacks id, priority, persistent or timestamp');
  }
  const subject = reader.recentString16('subject', recentMessageSubject);
  const key = bits & MessageBits.key ? reader.string16('key') : undefined;
  const id = reader.string16('message id');
  const priority = reader.u8('priority');
  const expiresAtMs = bits & MessageBits.expiresAtMs ? reader.f64('expiresAtMs') : undefined;
  const deliverAfterMs = bits & MessageBits.deliverAfterMs ? reader.f64('deliverAfterMs') : undefined;
  const correlationId = bits & MessageBits.correlationId ? reader.string16('correlation id') : undefined;
  const replyTo = bits & MessageBits.replyTo ? reader.string16('reply-to') : undefined;
  const contentType = bits & MessageBits.contentType ? reader.string16('content type') : undefined;
  const timestampMs = reader.f64('timestampMs');
  const headers = bits & MessageBits.headers ? readHeaders(reader) : emptyHeaders;
  const body = reader.bytes32('body');
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
    persistent: (bits & MessageBits.persistentValue) !== 0,
  };
}
