// Building a Message from what a publisher gives (DESIGN.md §1: one message model for all
// protocols). `createMessage` is the one place a message is validated and its defaults
// filled in; everything downstream (streams, consumers, live subscriptions, codecs) trusts
// a Message and only asserts.
//
// Defaults and rules:
// - subject: validateSubject (WEIR_INVALID_SUBJECT);
// - body: a string becomes its UTF-8 bytes; a Uint8Array is viewed as a Buffer without a
//   copy; at most `messageBytesMax` bytes (WEIR_MESSAGE_TOO_LARGE);
// - headers: at most `headersCountMax` of them, names non-empty and at most
//   `messagePropertyBytesMax` bytes, values string, number, boolean or Buffer (a Uint8Array
//   is viewed as a Buffer), names and values together at most `headersBytesMax`
//   (WEIR_MESSAGE_TOO_LARGE); the headers are copied, so later changes by the caller do not
//   reach the message;
// - id: kept if given (non-empty), else a new time-ordered id (see common/id-generator.ts);
// - priority: an integer 0–9, default 4 (as JMS);
// - expiry: `ttlMs` (a non-negative integer; 0 means it expires at once) gives
//   `expiresAtMs = nowMs + ttlMs`; or `expiresAtMs` directly; not both;
// - delay: `delayMs` (a non-negative integer; 0 means no delay) gives
//   `deliverAfterMs = nowMs + delayMs`; or `deliverAfterMs` directly; not both;
// - key, correlationId, replyTo, contentType: strings of at most `messagePropertyBytesMax`
//   bytes. replyTo is kept as given, not validated as a subject: protocols name reply
//   destinations their own way, and the adapter maps it;
// - persistent: default true;
// - timestampMs: `nowMs`.
// Every other mistake is WEIR_INVALID_ARGUMENT, naming the field.

import { assert } from '../common/assert.js';
import { ErrorCode, InvalidArgumentError, WeirError } from '../common/errors.js';
import { type IdGenerator, defaultIdGenerator } from '../common/id-generator.js';
import { Limits } from '../common/limits.js';
import type { HeaderValue, Headers, Message, PublishInput } from './api.js';
import { validateSubject } from './subject.js';

export interface CreateMessageOptions {
  /** Where new ids come from; default the process-wide generator. */
  readonly idGenerator?: IdGenerator;
  /** Lower limits configured for a broker or stream; each at most its value in Limits. */
  readonly messageBytesMax?: number;
  readonly headersCountMax?: number;
  readonly headersBytesMax?: number;
}

export const defaultPriority = 4;
export const priorityMax = 9;

/** Shared by every message without headers, so they cost no allocation. */
export const emptyHeaders: Headers = Object.freeze({});

export function createMessage(input: PublishInput, nowMs: number, options?: CreateMessageOptions): Message {
  if (typeof input !== 'object' || input === null) invalid('publish input must be an object');
  assert(Number.isFinite(nowMs), 'nowMs is a finite time');
  const messageBytesMax = options?.messageBytesMax ?? Limits.messageBytesMax;
  const headersCountMax = options?.headersCountMax ?? Limits.headersCountMax;
  const headersBytesMax = options?.headersBytesMax ?? Limits.headersBytesMax;
  assert(messageBytesMax <= Limits.messageBytesMax, 'messageBytesMax within Limits');
  assert(headersCountMax <= Limits.headersCountMax, 'headersCountMax within Limits');
  assert(headersBytesMax <= Limits.headersBytesMax, 'headersBytesMax within Limits');

  validateSubject(input.subject);
  const body = toBody(input.body, messageBytesMax);
  const headers =
    input.headers === undefined ? emptyHeaders : copyHeaders(input.headers, headersCountMax, headersBytesMax);

  let id: string;
  if (input.id === undefined) {
    id = (options?.idGenerator ?? defaultIdGenerator).next(nowMs);
  } else {
    id = checkProperty('id', input.id);
    if (id.length === 0) invalid('id must not be empty');
  }

  let priority = defaultPriority;
  if (input.priority !== undefined) {
    priority = input.priority;
    if (!Number.isInteger(priority) || priority < 0 || priority > priorityMax) {
      invalid(`priority must be an integer from 0 to ${priorityMax}, got ${String(input.priority)}`);
    }
  }

  let expiresAtMs: number | undefined;
  if (input.ttlMs !== undefined) {
    if (input.expiresAtMs !== undefined) invalid('give ttlMs or expiresAtMs, not both');
    expiresAtMs = Math.min(Number.MAX_SAFE_INTEGER, nowMs + checkDuration('ttlMs', input.ttlMs));
  } else if (input.expiresAtMs !== undefined) {
    expiresAtMs = checkTime('expiresAtMs', input.expiresAtMs);
  }

  let deliverAfterMs: number | undefined;
  if (input.delayMs !== undefined) {
    if (input.deliverAfterMs !== undefined) invalid('give delayMs or deliverAfterMs, not both');
    const delayMs = checkDuration('delayMs', input.delayMs);
    deliverAfterMs = delayMs === 0 ? undefined : Math.min(Number.MAX_SAFE_INTEGER, nowMs + delayMs);
  } else if (input.deliverAfterMs !== undefined) {
    deliverAfterMs = checkTime('deliverAfterMs', input.deliverAfterMs);
  }

  const persistent = input.persistent ?? true;
  if (typeof persistent !== 'boolean') invalid('persistent must be a boolean');

  return {
    subject: input.subject,
    key: input.key === undefined ? undefined : checkProperty('key', input.key),
    headers,
    body,
    id,
    timestampMs: nowMs,
    priority,
    expiresAtMs,
    deliverAfterMs,
    correlationId:
      input.correlationId === undefined ? undefined : checkProperty('correlationId', input.correlationId),
    replyTo: input.replyTo === undefined ? undefined : checkProperty('replyTo', input.replyTo),
    contentType:
      input.contentType === undefined ? undefined : checkProperty('contentType', input.contentType),
    persistent,
  };
}

/** Sets a header on a headers object being built, safe for the name `__proto__`. */
export function setHeader(headers: Record<string, HeaderValue>, name: string, value: HeaderValue): void {
  if (name === '__proto__') {
    Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    headers[name] = value;
  }
}

function toBody(body: PublishInput['body'], messageBytesMax: number): Buffer {
  let buffer: Buffer;
  if (typeof body === 'string') {
    // A UTF-8 string takes at most 3 bytes per UTF-16 code unit: skip encoding a body that
    // is certain to be too large.
    if (body.length > messageBytesMax)
      tooLarge(`body of at least ${body.length} bytes exceeds messageBytesMax ${messageBytesMax}`);
    buffer = Buffer.from(body, 'utf8');
  } else if (Buffer.isBuffer(body)) {
    buffer = body;
  } else if (body instanceof Uint8Array) {
    buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  } else {
    invalid('body must be a Buffer, a Uint8Array or a string');
  }
  if (buffer.length > messageBytesMax)
    tooLarge(`body of ${buffer.length} bytes exceeds messageBytesMax ${messageBytesMax}`);
  return buffer;
}

function copyHeaders(input: Headers, countMax: number, bytesMax: number): Headers {
  if (typeof input !== 'object' || input === null) invalid('headers must be an object');
  const names = Object.keys(input);
  if (names.length === 0) return emptyHeaders;
  if (names.length > countMax) invalid(`${names.length} headers exceed headersCountMax ${countMax}`);
  const headers: Record<string, HeaderValue> = {};
  let bytes = 0;
  for (const name of names) {
    if (name.length === 0) invalid('header names must not be empty');
    const nameBytes = stringBytes(name);
    if (nameBytes > Limits.messagePropertyBytesMax) {
      invalid(
        `header name of ${nameBytes} bytes exceeds messagePropertyBytesMax ${Limits.messagePropertyBytesMax}`,
      );
    }
    // Typed as unknown: JavaScript callers and adapters may pass a Uint8Array or worse.
    let value: unknown = input[name];
    bytes += nameBytes;
    if (typeof value === 'string') {
      bytes += stringBytes(value);
    } else if (typeof value === 'number') {
      bytes += 8;
    } else if (typeof value === 'boolean') {
      bytes += 1;
    } else if (Buffer.isBuffer(value)) {
      bytes += value.length;
    } else if (value instanceof Uint8Array) {
      const view = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      bytes += view.length;
      value = view;
    } else {
      invalid(`header ${JSON.stringify(name)} must be a string, number, boolean or Buffer`);
    }
    if (bytes > bytesMax) tooLarge(`headers exceed headersBytesMax ${bytesMax}`);
    setHeader(headers, name, value as HeaderValue);
  }
  return headers;
}

function stringBytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function checkProperty(name: string, value: unknown): string {
  if (typeof value !== 'string') invalid(`${name} must be a string`);
  if (value.length * 3 > Limits.messagePropertyBytesMax) {
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > Limits.messagePropertyBytesMax) {
      invalid(`${name} of ${bytes} bytes exceeds messagePropertyBytesMax ${Limits.messagePropertyBytesMax}`);
    }
  }
  return value;
}

function checkDuration(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    invalid(`${name} must be a non-negative integer number of milliseconds, got ${String(value)}`);
  }
  return value;
}

function checkTime(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    invalid(`${name} must be a time in milliseconds since the epoch, got ${String(value)}`);
  }
  return value;
}

function invalid(message: string): never {
  throw new InvalidArgumentError(message);
}

function tooLarge(message: string): never {
  throw new WeirError(ErrorCode.MessageTooLarge, message);
}
