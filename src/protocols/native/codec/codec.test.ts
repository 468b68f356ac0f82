import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ErrorCode, WeirError } from '../../../common/errors.js';
import type { Frame, WireMessage, WirePublish } from './index.js';
import { AdminOperation, BufferWriter, FrameDecoder, FrameType, encodeFrame } from './index.js';

// Plain prototypes, so decoded frames compare equal to generated ones.
const record = ((model: Record<string, fc.Arbitrary<unknown>>, options?: object) =>
  fc.record(model, { noNullPrototype: true, ...options })) as unknown as typeof fc.record;
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const text = fc.string({ unit: 'grapheme', maxLength: 20 });
const offset = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const bytes = fc.uint8Array({ maxLength: 64 }).map((array) => Buffer.from(array));
const headerName = text.filter((name) => name !== '__proto__');
const headers = fc.dictionary(headerName, fc.oneof(text, fc.double(), fc.boolean(), bytes), {
  maxKeys: 4,
  noNullPrototype: true,
});
const maybe = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.option(arbitrary, { nil: undefined });

const publishRecord: fc.Arbitrary<WirePublish> = record(
  {
    subject: text,
    body: bytes,
    key: text,
    headers,
    id: text,
    priority: fc.integer({ min: 0, max: 9 }),
    ttlMs: fc.double(),
    expiresAtMs: fc.double(),
    delayMs: fc.double(),
    deliverAfterMs: fc.double(),
    correlationId: text,
    replyTo: text,
    contentType: text,
    persistent: fc.boolean(),
    producer: record({
      id: fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }),
      epoch: u16,
      sequence: u32,
    }),
  },
  { requiredKeys: ['subject', 'body'] },
).map((input) => {
  // Empty headers are not sent: the decoded record leaves them out.
  if (input.headers === undefined || Object.keys(input.headers).length > 0) return input;
  const { headers: _, ...rest } = input;
  return rest;
});

const messageRecord: fc.Arbitrary<WireMessage> = record({
  subject: text,
  key: maybe(text),
  headers,
  body: bytes,
  id: text,
  timestampMs: offset,
  priority: fc.integer({ min: 0, max: 9 }),
  expiresAtMs: maybe(offset),
  deliverAfterMs: maybe(offset),
  correlationId: maybe(text),
  replyTo: maybe(text),
  contentType: maybe(text),
  persistent: fc.boolean(),
});

const delivery = record({
  partition: u32,
  offset,
  deliveryCount: u32,
  redelivered: fc.boolean(),
  message: messageRecord,
});
const ackEntry = record({ partition: u32, offset, deliveryCount: u32 });
const json = fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.parse(JSON.stringify(value)) as unknown);

const frame: fc.Arbitrary<Frame> = fc.oneof(
  record(
    {
      kind: fc.constant('hello' as const),
      requestId: u32,
      versionMin: u16,
      versionMax: u16,
      clientName: text,
      username: text,
      password: bytes,
      heartbeatMs: u32,
      frameBytesMax: u32,
    },
    {
      requiredKeys: [
        'kind',
        'requestId',
        'versionMin',
        'versionMax',
        'clientName',
        'heartbeatMs',
        'frameBytesMax',
      ],
    },
  ),
  record({
    kind: fc.constant('welcome' as const),
    requestId: u32,
    version: u16,
    serverName: text,
    sessionId: text,
    heartbeatMs: u32,
    frameBytesMax: u32,
  }),
  record({ kind: fc.constantFrom('ping' as const, 'pong' as const, 'ok' as const), requestId: u32 }),
  record({
    kind: fc.constant('error' as const),
    requestId: u32,
    fatal: fc.boolean(),
    code: text,
    message: text,
  }),
  record({ kind: fc.constant('goodbye' as const), requestId: u32, reason: text }),
  record({
    kind: fc.constant('publish' as const),
    requestId: u32,
    confirm: fc.boolean(),
    messages: fc.array(publishRecord, { maxLength: 4 }),
  }),
  record({
    kind: fc.constant('publishAck' as const),
    requestId: u32,
    results: fc.array(
      fc.oneof(
        record({
          ok: fc.constant(true as const),
          stream: text,
          partition: u32,
          offset,
          duplicate: fc.boolean(),
        }),
        record({ ok: fc.constant(false as const), code: text, message: text }),
      ),
      { maxLength: 4 },
    ),
  }),
  record({
    kind: fc.constant('attach' as const),
    requestId: u32,
    subscriptionId: u32,
    stream: text,
    consumer: text,
    credit: u32,
    creditOnAck: fc.boolean(),
  }),
  record({ kind: fc.constant('detach' as const), requestId: u32, subscriptionId: u32 }),
  record({ kind: fc.constant('credit' as const), requestId: u32, subscriptionId: u32, credit: u32 }),
  record({
    kind: fc.constant('deliver' as const),
    requestId: u32,
    subscriptionId: u32,
    deliveries: fc.array(delivery, { maxLength: 3 }),
  }),
  record(
    {
      kind: fc.constant('subscriptionClosed' as const),
      requestId: u32,
      subscriptionId: u32,
      error: record({ code: text, message: text }),
    },
    { requiredKeys: ['kind', 'requestId', 'subscriptionId'] },
  ),
  record(
    {
      kind: fc.constant('subscribeLive' as const),
      requestId: u32,
      subscriptionId: u32,
      filter: text,
      queueGroup: text,
      noLocal: fc.boolean(),
      bufferMessagesMax: u32,
      slowConsumerPolicy: fc.constantFrom('drop_oldest' as const, 'disconnect' as const),
    },
    { requiredKeys: ['kind', 'requestId', 'subscriptionId', 'filter', 'noLocal'] },
  ),
  record(
    {
      kind: fc.constant('liveDeliver' as const),
      requestId: u32,
      subscriptionId: u32,
      messages: fc.array(messageRecord, { maxLength: 3 }),
      droppedCount: fc.integer({ min: 1, max: 0xffffffff }),
    },
    { requiredKeys: ['kind', 'requestId', 'subscriptionId', 'messages'] },
  ),
  record({
    kind: fc.constant('fetch' as const),
    requestId: u32,
    stream: text,
    consumer: text,
    batch: u32,
    expiresMs: u32,
  }),
  record({
    kind: fc.constant('fetchResult' as const),
    requestId: u32,
    deliveries: fc.array(delivery, { maxLength: 3 }),
  }),
  record({
    kind: fc.constant('ack' as const),
    requestId: u32,
    cumulative: fc.boolean(),
    stream: text,
    consumer: text,
    entries: fc.array(ackEntry, { maxLength: 4 }),
  }),
  record({
    kind: fc.constant('nack' as const),
    requestId: u32,
    stream: text,
    consumer: text,
    entries: fc.array(
      record(
        { partition: u32, offset, deliveryCount: u32, delayMs: u32, reason: text },
        { requiredKeys: ['partition', 'offset', 'deliveryCount'] },
      ),
      { maxLength: 4 },
    ),
  }),
  record({
    kind: fc.constant('term' as const),
    requestId: u32,
    stream: text,
    consumer: text,
    entries: fc.array(
      record(
        { partition: u32, offset, deliveryCount: u32, reason: text },
        { requiredKeys: ['partition', 'offset', 'deliveryCount'] },
      ),
      { maxLength: 4 },
    ),
  }),
  record({
    kind: fc.constant('admin' as const),
    requestId: u32,
    operation: fc.constantFrom(...(Object.keys(AdminOperation) as (keyof typeof AdminOperation)[])),
    body: json,
  }),
  record({ kind: fc.constant('adminResult' as const), requestId: u32, body: json }),
  record({ kind: fc.constant('request' as const), requestId: u32, timeoutMs: u32, message: publishRecord }),
  record({ kind: fc.constant('response' as const), requestId: u32, message: messageRecord }),
  record({
    kind: fc.constant('transaction' as const),
    requestId: u32,
    timeoutMs: u32,
    messages: fc.array(publishRecord, { maxLength: 3 }),
    acks: fc.array(record({ stream: text, consumer: text, partition: u32, offset, deliveryCount: u32 }), {
      maxLength: 3,
    }),
  }),
  record({
    kind: fc.constant('settleResult' as const),
    requestId: u32,
    outcomes: fc.array(fc.constantFrom('acked' as const, 'duplicate' as const, 'stale' as const), {
      maxLength: 5,
    }),
  }),
  record({
    kind: fc.constant('unsupported' as const),
    requestId: u32,
    type: fc.constantFrom(FrameType.transactionBegin, FrameType.transactionAbort, 0x7f, 0xff),
  }),
);

function encodeAll(frames: readonly Frame[]): Buffer {
  const writer = new BufferWriter(16);
  for (const each of frames) encodeFrame(writer, each);
  return writer.take();
}

test('every frame survives encode then decode, whatever the chunking', () => {
  fc.assert(
    fc.property(
      fc.array(frame, { minLength: 1, maxLength: 5 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      (frames, cuts) => {
        const bytes = encodeAll(frames);
        const decoder = new FrameDecoder(1 << 20);
        const positions = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
        const decoded: Frame[] = [];
        let from = 0;
        for (const position of [...positions, bytes.length]) {
          decoded.push(...decoder.push(bytes.subarray(from, position)));
          from = position;
        }
        assert.deepStrictEqual(decoded, frames);
        assert.equal(decoder.bufferedBytes, 0);
      },
    ),
    { numRuns: 300 },
  );
});

test('random bytes never throw anything but WeirError', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 5 }), (chunks) => {
      const decoder = new FrameDecoder(4096);
      for (const chunk of chunks) {
        try {
          decoder.push(Buffer.from(chunk));
        } catch (error) {
          assert.ok(error instanceof WeirError, `threw ${String(error)}`);
          return;
        }
      }
    }),
    { numRuns: 2000 },
  );
});

test('mutated valid frames never throw anything but WeirError', () => {
  fc.assert(
    fc.property(
      frame,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      (valid, mutations) => {
        const bytes = encodeAll([valid]);
        for (const [at, value] of mutations) {
          // Keep the length prefix plausible half the time so the payload parsers are exercised.
          const position = at % bytes.length;
          if (position < 4 && value % 2 === 0) continue;
          bytes[position] = value;
        }
        try {
          new FrameDecoder(1 << 20).push(bytes);
        } catch (error) {
          assert.ok(error instanceof WeirError, `threw ${String(error)}`);
        }
      },
    ),
    { numRuns: 2000 },
  );
});

test('a frame over the limit is refused from its length prefix alone', () => {
  const decoder = new FrameDecoder(1024);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(2000);
  assert.throws(
    () => decoder.push(prefix),
    (error: unknown) => error instanceof WeirError && error.code === ErrorCode.FrameTooLarge,
  );
  // The decoder stays failed: the connection is to be closed.
  assert.throws(() => decoder.push(Buffer.alloc(0)), WeirError);
});

test('a truncated payload is a protocol error, not a crash', () => {
  const bytes = encodeAll([
    { kind: 'fetch', requestId: 1, stream: 'orders', consumer: 'c', batch: 1, expiresMs: 1 },
  ]);
  bytes.writeUInt32BE(bytes.length - 4 - 3, 0);
  assert.throws(
    () => new FrameDecoder(4096).push(bytes.subarray(0, bytes.length - 3)),
    (error: unknown) => error instanceof WeirError && error.code === ErrorCode.ProtocolError,
  );
});

test('bodies are sliced from the received chunk, not copied', () => {
  const body = Buffer.from('hello world');
  const bytes = encodeAll([
    { kind: 'publish', requestId: 0, confirm: false, messages: [{ subject: 'a.b', body }] },
  ]);
  const [decoded] = new FrameDecoder(4096).push(bytes);
  assert.ok(decoded?.kind === 'publish');
  const received = decoded.messages[0]?.body as Buffer;
  assert.equal(received.buffer, bytes.buffer);
  assert.deepEqual(received, body);
});
