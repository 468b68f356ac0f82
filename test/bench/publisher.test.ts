import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readPayloadStamp } from '../../bench/harness/payload.js';
import type { PublisherDriver } from '../../bench/harness/protocol-driver.js';
import { Publisher } from '../../bench/harness/publisher.js';
import { SequenceChecker, DeliveryGuarantee } from '../../bench/harness/sequence-checker.js';

const frameBytes = 32;

/**
 * A broker stand-in: confirms every message except those `drop` names, and hands what it
 * accepted to a checker, as a subscriber would see it.
 */
function fakeDriver(checker: SequenceChecker, drop: (index: number) => boolean): PublisherDriver {
  let confirm: (index: number | undefined) => void = () => {};
  return {
    confirms: true,
    inflightLimit: 100,
    connect: () => Promise.resolve(),
    frameBytes: () => frameBytes,
    encode(target, offset, streamIndex, sequence, index, sentNs) {
      target.fill(0, offset, offset + frameBytes);
      target.writeUInt32BE(0x57455231, offset);
      target.writeUInt32BE(streamIndex, offset + 4);
      target.writeUInt32BE(sequence, offset + 8);
      target.writeUInt32BE(Math.floor(sentNs / 4294967296), offset + 12);
      target.writeUInt32BE(sentNs % 4294967296, offset + 16);
      target.writeUInt32BE(index, offset + 20);
    },
    write(batch) {
      setImmediate(() => {
        for (let offset = 0; offset < batch.length; offset += frameBytes) {
          const index = batch.readUInt32BE(offset + 20);
          if (drop(index)) continue;
          const stamp = readPayloadStamp(batch, offset, frameBytes);
          assert.ok(stamp !== undefined);
          checker.record(stamp.streamIndex, stamp.sequence);
          confirm(index);
        }
        confirm(undefined);
      });
      return true;
    },
    onDrain: () => {},
    onConfirm: (listener) => (confirm = listener),
    onError: () => {},
    close: () => Promise.resolve(),
  };
}

const promise = { guarantee: DeliveryGuarantee.AtLeastOnce, ordered: true } as const;

test('a fixed count is spread round robin over the streams and every message is confirmed', async () => {
  const checker = new SequenceChecker(3);
  const publisher = new Publisher(
    fakeDriver(checker, () => false),
    {
      streamCount: 3,
      ratePerSecond: undefined,
      durationMs: 10_000,
      messageCount: 1000,
      inflightMax: 50,
    },
  );
  const report = await publisher.run();
  assert.equal(report.sent, 1000);
  assert.equal(report.unconfirmed, 0);
  assert.deepEqual(report.confirmedPerStream, [334, 333, 333]);
  assert.deepEqual(checker.verify(report.confirmedPerStream, promise).violations, []);
});

test('a message the broker never confirms stops the confirmed prefix of its stream', async () => {
  const checker = new SequenceChecker(2);
  const publisher = new Publisher(
    fakeDriver(checker, (index) => index === 41),
    {
      streamCount: 2,
      ratePerSecond: undefined,
      durationMs: 200,
      messageCount: 100,
      inflightMax: 10,
      confirmWaitMs: 100,
    },
  );
  const report = await publisher.run();
  // Index 41 is stream 1, sequence 20: with it unconfirmed the window can still move on, but
  // the run must report it, and stream 1 is confirmed only up to sequence 19.
  assert.ok(report.unconfirmed >= 1);
  assert.equal(report.confirmedPerStream[1], 20);
});

test('at a fixed rate the publisher sends about rate × duration messages', async () => {
  const checker = new SequenceChecker(1);
  const publisher = new Publisher(
    fakeDriver(checker, () => false),
    {
      streamCount: 1,
      ratePerSecond: 2000,
      durationMs: 300,
      messageCount: undefined,
      inflightMax: 1000,
    },
  );
  const report = await publisher.run();
  assert.ok(report.sent >= 400 && report.sent <= 700, `sent ${report.sent}`);
  assert.equal(report.unconfirmed, 0);
});
