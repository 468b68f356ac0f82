import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, isWeirError } from '../common/errors.js';
import { IdGenerator } from '../common/id-generator.js';
import { Limits } from '../common/limits.js';
import type { PublishInput } from './api.js';
import { createMessage, emptyHeaders } from './message.js';

const nowMs = 1_700_000_000_000;

function rejects(
  input: PublishInput,
  code: string,
  pattern: RegExp,
  options?: Parameters<typeof createMessage>[2],
): void {
  assert.throws(
    () => createMessage(input, nowMs, options),
    (error: unknown) => {
      assert.ok(isWeirError(error), 'a WeirError');
      assert.equal(error.code, code);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

test('createMessage fills in defaults', () => {
  const message = createMessage({ subject: 'orders.created', body: 'héllo' }, nowMs);
  assert.deepEqual(message.body, Buffer.from('héllo', 'utf8'));
  assert.equal(message.subject, 'orders.created');
  assert.equal(message.priority, 4);
  assert.equal(message.persistent, true);
  assert.equal(message.timestampMs, nowMs);
  assert.equal(message.headers, emptyHeaders);
  assert.match(message.id, /^[0-9A-Z]{26}$/);
  for (const field of [
    'key',
    'expiresAtMs',
    'deliverAfterMs',
    'correlationId',
    'replyTo',
    'contentType',
  ] as const) {
    assert.equal(message[field], undefined, field);
  }
  assert.notEqual(createMessage({ subject: 'a', body: '' }, nowMs).id, message.id);
});

test('createMessage keeps given fields and computes expiry and delay', () => {
  const generator = new IdGenerator();
  const message = createMessage(
    {
      subject: 'a.b',
      body: new Uint8Array([1, 2, 3]),
      key: 'k',
      id: 'my-id',
      priority: 9,
      ttlMs: 1000,
      delayMs: 50,
      correlationId: 'c',
      replyTo: '_INBOX.x',
      contentType: 'application/json',
      persistent: false,
      headers: { s: 'x', n: 1.5, t: true, f: false, b: Buffer.from([7]), u: new Uint8Array([8]) as Buffer },
    },
    nowMs,
    { idGenerator: generator },
  );
  assert.ok(Buffer.isBuffer(message.body));
  assert.deepEqual([...message.body], [1, 2, 3]);
  assert.equal(message.id, 'my-id');
  assert.equal(message.priority, 9);
  assert.equal(message.expiresAtMs, nowMs + 1000);
  assert.equal(message.deliverAfterMs, nowMs + 50);
  assert.equal(message.persistent, false);
  assert.equal(message.key, 'k');
  assert.ok(Buffer.isBuffer(message.headers['u']));
  assert.deepEqual(message.headers['b'], Buffer.from([7]));
  assert.equal(message.headers['n'], 1.5);
  assert.equal(message.headers['f'], false);
  const absolute = createMessage({ subject: 'a', body: '', expiresAtMs: 5, deliverAfterMs: 7 }, nowMs);
  assert.equal(absolute.expiresAtMs, 5);
  assert.equal(absolute.deliverAfterMs, 7);
  assert.equal(createMessage({ subject: 'a', body: '', delayMs: 0 }, nowMs).deliverAfterMs, undefined);
  assert.equal(createMessage({ subject: 'a', body: '', ttlMs: 0 }, nowMs).expiresAtMs, nowMs);
});

test('createMessage copies headers, so later changes do not reach the message', () => {
  const headers: Record<string, string> = { a: '1' };
  const message = createMessage({ subject: 'a', body: '', headers }, nowMs);
  headers['a'] = '2';
  headers['b'] = '3';
  assert.deepEqual(message.headers, { a: '1' });
});

test('a header named __proto__ is an ordinary header', () => {
  const headers = JSON.parse('{"__proto__": "x"}') as Record<string, string>;
  const message = createMessage({ subject: 'a', body: '', headers }, nowMs);
  assert.deepEqual(Object.keys(message.headers), ['__proto__']);
  assert.equal(Object.getPrototypeOf(message.headers), Object.prototype);
});

test('createMessage rejects bad input with the field named', () => {
  rejects({ subject: 'a.*', body: '' }, ErrorCode.InvalidSubject, /wildcard/);
  rejects({ subject: 'a', body: 5 as unknown as string }, ErrorCode.InvalidArgument, /body must be/);
  rejects({ subject: 'a', body: '', priority: 10 }, ErrorCode.InvalidArgument, /priority/);
  rejects({ subject: 'a', body: '', priority: 1.5 }, ErrorCode.InvalidArgument, /priority/);
  rejects({ subject: 'a', body: '', priority: -1 }, ErrorCode.InvalidArgument, /priority/);
  rejects({ subject: 'a', body: '', ttlMs: -1 }, ErrorCode.InvalidArgument, /ttlMs/);
  rejects({ subject: 'a', body: '', ttlMs: 1, expiresAtMs: 2 }, ErrorCode.InvalidArgument, /not both/);
  rejects({ subject: 'a', body: '', delayMs: 1, deliverAfterMs: 2 }, ErrorCode.InvalidArgument, /not both/);
  rejects({ subject: 'a', body: '', delayMs: Number.NaN }, ErrorCode.InvalidArgument, /delayMs/);
  rejects({ subject: 'a', body: '', id: '' }, ErrorCode.InvalidArgument, /id must not be empty/);
  rejects(
    { subject: 'a', body: '', key: 3 as unknown as string },
    ErrorCode.InvalidArgument,
    /key must be a string/,
  );
  rejects(
    { subject: 'a', body: '', persistent: 'yes' as unknown as boolean },
    ErrorCode.InvalidArgument,
    /persistent/,
  );
  rejects({ subject: 'a', body: '', headers: { '': 'x' } }, ErrorCode.InvalidArgument, /header names/);
  rejects(
    { subject: 'a', body: '', headers: { x: null as unknown as string } },
    ErrorCode.InvalidArgument,
    /header "x"/,
  );
  rejects(
    { subject: 'a', body: '', correlationId: 'c'.repeat(Limits.messagePropertyBytesMax + 1) },
    ErrorCode.InvalidArgument,
    /correlationId.*messagePropertyBytesMax/,
  );
});

test('createMessage enforces the body, header count and header size limits', () => {
  createMessage({ subject: 'a', body: Buffer.alloc(Limits.messageBytesMax) }, nowMs);
  rejects(
    { subject: 'a', body: Buffer.alloc(Limits.messageBytesMax + 1) },
    ErrorCode.MessageTooLarge,
    /messageBytesMax/,
  );
  rejects(
    { subject: 'a', body: 'x'.repeat(Limits.messageBytesMax + 1) },
    ErrorCode.MessageTooLarge,
    /messageBytesMax/,
  );
  rejects({ subject: 'a', body: 'abc' }, ErrorCode.MessageTooLarge, /messageBytesMax 2/, {
    messageBytesMax: 2,
  });
  const many = Object.fromEntries(
    Array.from({ length: Limits.headersCountMax + 1 }, (_, index) => [`h${index}`, index]),
  );
  rejects({ subject: 'a', body: '', headers: many }, ErrorCode.InvalidArgument, /headersCountMax/);
  delete many[`h${Limits.headersCountMax}`];
  createMessage({ subject: 'a', body: '', headers: many }, nowMs);
  rejects(
    { subject: 'a', body: '', headers: { big: 'x'.repeat(Limits.headersBytesMax) } },
    ErrorCode.MessageTooLarge,
    /headersBytesMax/,
  );
  createMessage({ subject: 'a', body: '', headers: { big: 'x'.repeat(Limits.headersBytesMax - 3) } }, nowMs);
});
