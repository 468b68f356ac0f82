// A backlog costs disk, not memory (DESIGN.md §4): 1,000,000 messages accumulate while the
// consumer is away, then drain with explicit acks. Broker RSS is sampled throughout and
// must stay under 300 MB.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Delivery } from '../../src/core/api.js';
import { openCore, tempDir, until } from './helpers.js';

const messageCount = 1_000_000;
const rssLimitBytes = 300 * 1024 * 1024;

test('backlog of 1,000,000 messages accumulates and drains with RSS under 300 MB', async (t) => {
  const temp = await tempDir();
  const core = await openCore({ dataDir: temp.dir });
  let rssMaxBytes = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    rssMaxBytes = Math.max(rssMaxBytes, process.memoryUsage.rss());
  }, 50);
  const started = Date.now();
  try {
    await core.addStream({ name: 'backlog', subjects: ['backlog.>'], fsync: { kind: 'never' } });
    await core.addConsumer('backlog', { name: 'worker', maxAckPending: 10_000 });
    const session = core.openSession();
    const body = Buffer.alloc(100, 'x');
    for (let sent = 0; sent < messageCount; sent += 10_000) {
      for (let index = 0; index < 10_000; index++) session.publish({ subject: 'backlog.item', body });
      // Let the append queue drain before queueing more, as a flow-controlled producer would.
      await until(() => core.streamInfo('backlog').messages >= sent + 5_000, 'appends', 60_000);
    }
    await until(() => core.streamInfo('backlog').messages === messageCount, 'all stored', 60_000);
    const accumulatedMs = Date.now() - started;
    const rssAfterAccumulate = process.memoryUsage.rss();

    let acked = 0;
    let lastOffset = -1;
    let outOfOrder = 0;
    const consumer = core.openSession();
    consumer.attach('backlog', 'worker', {
      credit: 1_000,
      onDelivery: (delivery: Delivery) => {
        if (delivery.offset !== lastOffset + 1) outOfOrder += 1;
        lastOffset = delivery.offset;
        consumer.ack(delivery);
        acked += 1;
      },
    });
    await until(() => acked === messageCount, 'drained', 120_000);
    const drainedMs = Date.now() - started - accumulatedMs;
    rssMaxBytes = Math.max(rssMaxBytes, process.memoryUsage.rss());
    const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
    t.diagnostic(
      `backlog: accumulated ${messageCount} in ${accumulatedMs} ms (RSS ${mb(rssAfterAccumulate)}), ` +
        `drained in ${drainedMs} ms; RSS max ${mb(rssMaxBytes)}; consumer state ` +
        `${core.consumerInfo('backlog', 'worker').memoryBytes} bytes`,
    );
    assert.equal(outOfOrder, 0);
    assert.deepEqual(core.consumerInfo('backlog', 'worker').ackFloors, [messageCount]);
    assert.ok(rssMaxBytes < rssLimitBytes, `RSS reached ${mb(rssMaxBytes)}`);
  } finally {
    clearInterval(sampler);
    await core.close();
    await temp.remove();
  }
});
