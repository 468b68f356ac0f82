import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, WeirError, isWeirError } from '../common/errors.js';
import type { PublishAck } from '../core/api.js';
import type { WirePublish } from '../protocols/native/codec/index.js';
import { IdempotentProducer } from './network-producer.js';

interface Sent {
  readonly body: string;
  readonly producerId: bigint | undefined;
  readonly sequence: number | undefined;
  readonly resolve: (ack: PublishAck) => void;
  readonly reject: (error: WeirError) => void;
}

/** A producer over a fake broker whose answers the test gives by hand, in any order. */
function setup(): {
  producer: IdempotentProducer;
  sent: Sent[];
  send: (
    message: WirePublish,
    resolve: (ack: PublishAck) => void,
    reject: (error: WeirError) => void,
  ) => void;
} {
  let nextId = 1n;
  const producer = new IdempotentProducer({
    initProducer: () => Promise.resolve({ producerId: nextId++, epoch: 0 }),
    route: () => Promise.resolve({ stream: 'orders', partitions: 1 }),
  });
  const sent: Sent[] = [];
  const send = (
    message: WirePublish,
    resolve: (ack: PublishAck) => void,
    reject: (error: WeirError) => void,
  ): void => {
    sent.push({
      body: String(message.body),
      producerId: message.producer?.id,
      sequence: message.producer?.sequence,
      resolve,
      reject,
    });
  };
  return { producer, sent, send };
}

const message = (body: string): WirePublish => ({ subject: 'orders', body });
const ack = (offset: number): PublishAck => ({ stream: 'orders', partition: 0, offset, duplicate: false });
const gap = (): WeirError => new WeirError(ErrorCode.InvalidArgument, 'sequence skips ahead');
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('refusals behind an earlier one are re-stamped under a new identity, in order, even when answered first', async () => {
  const { producer, sent, send } = setup();
  const results = ['a', 'b', 'c'].map((body) =>
    producer.publish(message(body), send).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
  );
  await settle();
  assert.deepEqual(
    sent.map((entry) => [entry.body, entry.producerId, entry.sequence]),
    [
      ['a', 1n, 0],
      ['b', 1n, 1],
      ['c', 1n, 2],
    ],
  );
  const [a, b, c] = sent as [Sent, Sent, Sent];
  // Answers of different frames may come out of order: the gaps before the refusal itself.
  c.reject(gap());
  b.reject(gap());
  await settle();
  const later = producer.publish(message('d'), send);
  await settle();
  assert.equal(sent.length, 3, 'nothing is sent while an answer under the old identity is missing');
  a.reject(new WeirError(ErrorCode.StreamFull, 'stream full'));
  await settle();
  assert.deepEqual(
    sent.slice(3).map((entry) => [entry.body, entry.producerId, entry.sequence]),
    [
      ['b', 2n, 0],
      ['c', 2n, 1],
      ['d', 2n, 2],
    ],
  );
  sent.slice(3).forEach((entry, index) => entry.resolve(ack(index)));
  const [resultA, resultB, resultC] = await Promise.all(results);
  assert.ok(resultA?.ok === false && isWeirError(resultA.error, ErrorCode.StreamFull));
  assert.deepEqual(
    [resultB, resultC],
    [
      { ok: true, value: ack(0) },
      { ok: true, value: ack(1) },
    ],
  );
  assert.deepEqual(await later, ack(2));
});

test('an invalid-argument refusal with nothing refused before it is the caller’s own error', async () => {
  const { producer, sent, send } = setup();
  const first = producer.publish(message('a'), send);
  const second = producer.publish(message('b'), send);
  await settle();
  const [a, b] = sent as [Sent, Sent];
  a.reject(new WeirError(ErrorCode.InvalidArgument, 'bad header'));
  b.resolve(ack(0));
  await assert.rejects(first, (error: unknown) => isWeirError(error, ErrorCode.InvalidArgument));
  assert.deepEqual(await second, ack(0));
  assert.equal(sent.length, 2, 'nothing re-sent');
});
