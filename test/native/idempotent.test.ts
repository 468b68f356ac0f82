// Idempotent publishing over real TCP: the broker's side of the connection is destroyed
// while confirmed publishes are in flight; the client re-sends the unconfirmed ones on the
// next connection with the same producer stamps, and each message is stored exactly once.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { NetworkClient } from '../../src/client/index.js';
import { connect } from '../../src/client/index.js';
import { ErrorCode, isWeirError } from '../../src/common/errors.js';
import type { TestBroker } from './harness.js';
import { startBroker, tempDir, until } from './harness.js';

let broker: TestBroker;
let temp: { dir: string; remove(): Promise<void> };

before(async () => {
  temp = await tempDir();
  broker = await startBroker({ dataDir: temp.dir });
});

after(async () => {
  await broker.close();
  await temp.remove();
});

async function readAll(client: NetworkClient, stream: string, consumer: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const batch = await client.fetch({ stream, consumer }, { batch: 1_000, expiresMs: 200 });
    if (batch.length === 0) return bodies;
    for (const message of batch) {
      bodies.push(message.string());
      message.ack();
    }
  }
}

/**
 * Publishes `total` confirmed messages while the broker's connection is cut as it writes its
 * first PUBLISH_ACK: that answer, for messages the broker has stored, is lost, so the client
 * re-sends messages the broker already has.
 */
async function publishThroughDrop(
  client: NetworkClient,
  total: number,
  subject: string,
  key: (index: number) => string | undefined,
): Promise<void> {
  const publishAckType = 0x11;
  for (const socket of broker.sockets) {
    const write = socket.write.bind(socket) as (chunk: Buffer) => boolean;
    let publishAcks = 0;
    socket.write = ((chunk: Buffer) => {
      if (chunk[4] === publishAckType && ++publishAcks === 1) {
        socket.destroy();
        return false;
      }
      return write(chunk);
    }) as typeof socket.write;
  }
  const dropped = new Promise((resolve) => client.once('disconnect', resolve));
  const all: Promise<unknown>[] = [];
  for (let index = 0; index < total; index++) {
    const partitionKey = key(index);
    all.push(
      client.publishConfirmed(subject, `m${index}`, partitionKey === undefined ? {} : { key: partitionKey }),
    );
  }
  await dropped;
  await Promise.all(all);
}

test('confirmed publishes re-sent after a dropped connection are stored exactly once', async () => {
  const client = await connect({ servers: broker.address, reconnectDelayMs: 10, reconnectDelayMsMax: 50 });
  try {
    await client.admin.addStream({ name: 'single', subjects: ['single'] });
    await client.admin.addConsumer('single', { name: 'audit' });
    await client.admin.addStream({ name: 'keyed', subjects: ['keyed'], partitions: 3 });
    await client.admin.addConsumer('keyed', { name: 'audit' });

    const total = 4_000;
    await publishThroughDrop(client, total, 'single', () => undefined);
    await publishThroughDrop(client, total, 'keyed', (index) => `k${index % 7}`);

    for (const stream of ['single', 'keyed']) {
      const bodies = await readAll(client, stream, 'audit');
      assert.equal(new Set(bodies).size, total, `${stream}: every message stored`);
      assert.equal(bodies.length, total, `${stream}: no message stored twice`);
      // The drops did make the client re-send messages the broker already had.
      assert.ok(broker.core.streamInfo(stream).duplicates > 0, `${stream}: retries were deduplicated`);
    }
  } finally {
    await client.close();
  }
});

test('keyless messages on a partitioned stream and delayed ones go unstamped and are stored once', async () => {
  const client = await connect({ servers: broker.address });
  try {
    await client.admin.addStream({ name: 'spread', subjects: ['spread'], partitions: 2 });
    const acks = await Promise.all([
      client.publishConfirmed('spread', 'a'),
      client.publishConfirmed('spread', 'b'),
    ]);
    assert.equal(acks.filter((ack) => ack.duplicate).length, 0);
    assert.deepEqual(acks.map((ack) => ack.partition).sort(), [0, 1], 'round-robin, as without stamps');
    assert.equal(broker.core.streamInfo('spread').messages, 2);
    // A delayed message is confirmed with offset -1 (not appended yet), which the codec accepts.
    const delayed = await client.publishConfirmed('spread', 'c', { delayMs: 200 });
    assert.equal(delayed.offset, -1);
    await until(() => broker.core.streamInfo('spread').messages === 3, 'the delayed message appended');
    assert.equal(broker.core.streamInfo('spread').messages, 3);
  } finally {
    await client.close();
  }
});

test('a refused stamped publish fails alone: the publishes behind it are re-stamped and stored once, in order', async () => {
  const client = await connect({ servers: broker.address });
  try {
    await client.admin.addStream({ name: 'bounded', subjects: ['bounded'], maxBytes: 4_096, discard: 'new' });
    await client.admin.addConsumer('bounded', { name: 'audit' });
    // The broker now knows this producer on the partition, so a gap in its sequences is refused.
    await client.publishConfirmed('bounded', 'first');
    // One tick: one PUBLISH frame. The big one does not fit (WEIR_STREAM_FULL); the three
    // behind it were stamped with the sequences after it, which the broker refuses as a gap.
    const big = client.publishConfirmed('bounded', Buffer.alloc(8_000, 120));
    const behind = ['b1', 'b2', 'b3'].map((body) => client.publishConfirmed('bounded', body));
    let late: Promise<unknown> | undefined;
    await assert.rejects(
      big.finally(() => (late = client.publishConfirmed('bounded', 'late'))),
      (error: unknown) => isWeirError(error, ErrorCode.StreamFull),
    );
    const acks = await Promise.all(behind);
    assert.deepEqual(
      acks.map((ack) => ack.duplicate),
      [false, false, false],
    );
    await late;
    assert.deepEqual(await readAll(client, 'bounded', 'audit'), ['first', 'b1', 'b2', 'b3', 'late']);
    assert.equal(broker.core.streamInfo('bounded').duplicates, 0);
  } finally {
    await client.close();
  }
});
