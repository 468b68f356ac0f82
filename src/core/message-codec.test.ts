import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ErrorCode, isWeirError } from '../common/errors.js';
import type { HeaderValue, Message } from './api.js';
import { createMessage } from './message.js';
import { decodeMessage, encodeMessage, messageBodyIsEmpty, messageCompactionKey } from './message-codec.js';

const text = fc.string({ unit: 'binary', maxLength: 20 });
const optionalText = fc.option(text, { nil: undefined });
const time = fc.option(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), { nil: undefined });
const headerValue: fc.Arbitrary<HeaderValue> = fc.oneof(
  text,
  fc.double(),
  fc.boolean(),
  fc.uint8Array({ maxLength: 20 }).map((bytes) => Buffer.from(bytes)),
);
const subject = fc
  .array(fc.stringMatching(/^[a-z$_][a-z0-9_-]{0,5}$/), { minLength: 1, maxLength: 5 })
  .map((tokens) => tokens.join('.'));

// fast-check builds objects without a prototype; a decoded message has the ordinary one.
const message: fc.Arbitrary<Message> = fc
  .record({
    subject,
    key: optionalText,
    headers: fc
      .dictionary(fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }), headerValue, { maxKeys: 6 })
      .map((headers) => Object.fromEntries(Object.entries(headers))),
    body: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    id: fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
    timestampMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    priority: fc.integer({ min: 0, max: 9 }),
    expiresAtMs: time,
    deliverAfterMs: time,
    correlationId: optionalText,
    replyTo: optionalText,
    contentType: optionalText,
    persistent: fc.boolean(),
  })
  .map((fields) => ({ ...fields }));

test('decode(encode(message)) is the message, for any message', () => {
  fc.assert(
    fc.property(message, (original) => {
      const decoded = decodeMessage(encodeMessage(original));
      assert.deepEqual(decoded, original);
    }),
    { numRuns: 1000 },
  );
});

test('the compaction key and tombstone test read the encoded fields as decoding does', () => {
  fc.assert(
    fc.property(message, fc.boolean(), (original, emptyBody) => {
      const input = emptyBody ? { ...original, body: Buffer.alloc(0) } : original;
      const bytes = encodeMessage(input);
      const decoded = decodeMessage(bytes);
      const expectedKey =
        decoded.key === undefined
          ? Buffer.concat([Buffer.from('s'), Buffer.from(decoded.subject, 'utf8')])
          : Buffer.concat([Buffer.from('k'), Buffer.from(decoded.key, 'utf8')]);
      assert.deepEqual(messageCompactionKey(bytes), expectedKey);
      assert.equal(messageBodyIsEmpty(bytes), decoded.body.length === 0);
    }),
  );
});

test('header value types survive the round trip', () => {
  const original = createMessage(
    {
      subject: 'a',
      body: 'x',
      headers: { s: '1', n: 1, z: -0, nan: Number.NaN, t: true, f: false, b: Buffer.from('1') },
    },
    1,
  );
  const decoded = decodeMessage(encodeMessage(original));
  assert.equal(decoded.headers['s'], '1');
  assert.equal(decoded.headers['n'], 1);
  assert.ok(Object.is(decoded.headers['z'], -0));
  assert.ok(Number.isNaN(decoded.headers['nan']));
  assert.equal(decoded.headers['t'], true);
  assert.equal(decoded.headers['f'], false);
  assert.ok(Buffer.isBuffer(decoded.headers['b']));
  assert.deepEqual(decoded, original);
});

test('the body is decoded as a slice of the record, not a copy', () => {
  const record = encodeMessage(createMessage({ subject: 'a', body: 'payload' }, 1));
  const decoded = decodeMessage(record);
  assert.equal(decoded.body.buffer, record.buffer);
  record[record.length - 1] = 0x21;
  assert.equal(decoded.body.toString(), 'payloa!');
});

test('malformed records are WEIR_CORRUPT_LOG, for every truncation and trailing garbage', () => {
  const record = encodeMessage(
    createMessage({ subject: 'a.b', body: 'body', key: 'k', ttlMs: 5, headers: { h: 'v', n: 2 } }, 1),
  );
  const isCorrupt = (error: unknown): boolean => isWeirError(error, ErrorCode.CorruptLog);
  for (let length = 0; length < record.length; length++) {
    assert.throws(() => decodeMessage(record.subarray(0, length)), isCorrupt, `truncated to ${length}`);
  }
  assert.throws(() => decodeMessage(Buffer.concat([record, Buffer.from([0])])), isCorrupt);
  const badVersion = Buffer.from(record);
  badVersion[0] = 9;
  assert.throws(() => decodeMessage(badVersion), /format version 9/);
  const badFlags = Buffer.from(record);
  badFlags[1] = 0x80;
  assert.throws(() => decodeMessage(badFlags), /unknown flags/);
});

test('decoding arbitrary bytes never throws anything but WEIR_CORRUPT_LOG', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      try {
        decodeMessage(Buffer.from(bytes));
      } catch (error) {
        assert.ok(isWeirError(error, ErrorCode.CorruptLog), String(error));
      }
    }),
    { numRuns: 2000 },
  );
});
