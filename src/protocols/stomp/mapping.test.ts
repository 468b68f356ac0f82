import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Message } from '../../core/api.js';
import { StompParser, header, type StompVersion } from './codec/index.js';
import { encodeMessage, parseDestination, sendToPublishInput } from './mapping.js';

function message(overrides: Partial<Message> = {}): Message {
  return {
    subject: 'a.b',
    key: undefined,
    headers: {},
    body: Buffer.from('body'),
    id: 'id-1',
    timestampMs: 1,
    priority: 4,
    expiresAtMs: undefined,
    deliverAfterMs: undefined,
    correlationId: undefined,
    replyTo: undefined,
    contentType: undefined,
    persistent: true,
    ...overrides,
  };
}

test('an encoded MESSAGE parses back with its headers and body, in every version', () => {
  const text = fc.string({ unit: fc.constantFrom('a', ':', '\\', '\n', 'é', ' ', 'z') });
  fc.assert(
    fc.property(
      fc.constantFrom<StompVersion>('1.1', '1.2'),
      text,
      text,
      fc.uint8Array({ maxLength: 64 }),
      (version, value, subscriptionId, body) => {
        const original = message({
          headers: { 'x-value': value, 'x-number': 7 },
          body: Buffer.from(body),
          correlationId: value,
        });
        const parts = encodeMessage(
          {
            message: original,
            destination: '/queue/a',
            subscriptionId,
            messageId: 'm-1',
            ackId: 'm-1',
            redelivered: true,
            shared: value.length % 2 === 0,
          },
          version,
        );
        const parser = new StompParser();
        parser.setVersion(version);
        const result = parser.push(Buffer.concat(parts));
        assert.equal(result.error, undefined);
        const frame = result.frames[0];
        assert.ok(frame !== undefined);
        assert.equal(frame.command, 'MESSAGE');
        assert.equal(header(frame, 'subscription'), subscriptionId);
        assert.equal(header(frame, 'x-value'), value);
        assert.equal(header(frame, 'x-number'), '7');
        assert.equal(header(frame, 'correlation-id'), value);
        assert.equal(header(frame, 'redelivered'), 'true');
        assert.ok(frame.body.equals(Buffer.from(body)));
      },
    ),
  );
});

test('destinations', () => {
  assert.deepEqual(parseDestination('/queue/orders.eu', false), { kind: 'queue', name: 'orders.eu' });
  assert.deepEqual(parseDestination('/topic/a.*', true), { kind: 'topic', filter: 'a.*' });
  assert.throws(() => parseDestination('/topic/a.*', false), /invalid destination/);
  assert.throws(() => parseDestination('/exchange/x', false), /unknown destination/);
  assert.throws(() => parseDestination('/queue/', false), /no name/);
  assert.throws(() => parseDestination('/reply-queue/elsewhere', false), /not a temporary queue/);
});

test('SEND headers map onto message fields; the first of repeated headers counts', () => {
  const { input } = sendToPublishInput(
    {
      command: 'SEND',
      headers: [
        ['destination', '/queue/a'],
        ['priority', '9'],
        ['priority', '1'],
        ['expiration', '5000'],
        ['x-delay', '10'],
        ['persistent', 'false'],
        ['x-custom', 'v'],
      ],
      body: Buffer.from('b'),
    },
    'a',
    'replies',
  );
  assert.equal(input.priority, 9);
  assert.equal(input.ttlMs, 5000);
  assert.equal(input.delayMs, 10);
  assert.equal(input.persistent, false);
  assert.equal(input.replyTo, 'replies');
  assert.deepEqual(input.headers, { 'x-custom': 'v' });
  assert.throws(
    () =>
      sendToPublishInput(
        { command: 'SEND', headers: [['priority', 'high']], body: Buffer.alloc(0) },
        'a',
        undefined,
      ),
    /not an integer/,
  );
});
