// Restarts with messages in flight: definitions, ack state and delivery counts survive;
// acked messages are never redelivered, unacked ones are.
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { Delivery } from '../../src/core/api.js';
import { openCore, tempDir, until } from './helpers.js';

test('restart with messages in flight: acked stay acked, unacked come back with their attempt count', async () => {
  const temp = await tempDir();
  try {
    let core = await openCore({ dataDir: temp.dir });
    await core.addStream({ name: 'orders', subjects: ['orders.>'], fsync: { kind: 'always' } });
    await core.addConsumer('orders', { name: 'worker', ackWaitMs: 5_000, maxDeliver: 5 });
    await core.addConsumer('orders', { name: 'temp', durable: false });
    let session = core.openSession();
    for (let index = 0; index < 10; index++)
      await session.publishConfirmed({ subject: 'orders.new', body: `m${index}` });
    const received: Delivery[] = [];
    session.attach('orders', 'worker', { credit: 10, onDelivery: (d) => received.push(d) });
    await until(() => received.length === 10, 'all delivered');
    // Ack out of order, nack one (its failed attempt is recorded), leave the rest in flight.
    for (const index of [0, 1, 2, 5, 7]) assert.equal(session.ack(received[index] as Delivery), 'acked');
    session.nack(received[3] as Delivery, { delayMs: 60_000, reason: 'later' });
    await core.close();

    core = await openCore({ dataDir: temp.dir });
    assert.deepEqual(
      core.listStreams().map((stream) => stream.config.name),
      ['orders'],
    );
    assert.deepEqual(
      core.listConsumers('orders').map((consumer) => consumer.config.name),
      ['worker'],
      'the ephemeral consumer is gone',
    );
    assert.equal(core.consumerInfo('orders', 'worker').config.maxDeliver, 5);
    assert.equal(core.streamInfo('orders').messages, 10);
    session = core.openSession();
    const again = await session.fetch('orders', 'worker', { batch: 100, expiresMs: 0 });
    const more = await session.fetch('orders', 'worker', { batch: 100, expiresMs: 0 });
    const all = [...again, ...more];
    assert.deepEqual(
      all.map((d) => `${d.message.body.toString()}#${d.deliveryCount}`),
      // Closing the broker closed the session that held them: that attempt counts.
      ['m3#2', 'm4#2', 'm6#2', 'm8#2', 'm9#2'],
    );
    for (const delivery of all) session.ack(delivery);
    await core.close();

    core = await openCore({ dataDir: temp.dir });
    session = core.openSession();
    assert.deepEqual(await session.fetch('orders', 'worker', { batch: 100, expiresMs: 0 }), []);
    assert.deepEqual(core.consumerInfo('orders', 'worker').ackFloors, [10]);
    await core.close();
  } finally {
    await temp.remove();
  }
});

test('the consumer-state log is compacted by snapshot and replays to the same state', async () => {
  const temp = await tempDir();
  try {
    const options = { dataDir: temp.dir, consumerStateSnapshotBytes: 16 * 1024 };
    let core = await openCore(options);
    await core.addStream({ name: 's', subjects: ['s'], fsync: { kind: 'never' } });
    await core.addConsumer('s', { name: 'c', maxAckPending: 100_000 });
    const session = core.openSession();
    const total = 60_000;
    for (let index = 0; index < total; index++) session.publish({ subject: 's', body: 'x' });
    await until(() => core.streamInfo('s').messages === total, 'stored');
    const received: Delivery[] = [];
    session.attach('s', 'c', { credit: total, onDelivery: (d) => received.push(d) });
    await until(() => received.length === total, 'delivered');
    // Ack every other message: many holes, so many small ack records.
    for (let index = 0; index < total; index += 2) session.ack(received[index] as Delivery);
    for (let index = 1; index < total / 2; index += 2) session.ack(received[index] as Delivery);
    await until(() => core.streamInfo('s').consumerStateSnapshots > 0, 'a snapshot');
    await core.close();
    const stateDir = path.join(temp.dir, 'streams', 's', 'consumers');
    let stateBytes = 0;
    for (const file of await readdir(stateDir)) stateBytes += (await stat(path.join(stateDir, file))).size;
    core = await openCore(options);
    const info = core.consumerInfo('s', 'c');
    assert.deepEqual(info.ackFloors, [total / 2 + 1]);
    const redelivered = await core.openSession().fetch('s', 'c', { batch: 10, expiresMs: 0 });
    assert.deepEqual(
      redelivered.map((d) => d.offset),
      [30_001, 30_003, 30_005, 30_007, 30_009, 30_011, 30_013, 30_015, 30_017, 30_019],
    );
    // Segments (1 MiB) before the latest snapshot were deleted: far less than every ack record.
    assert.ok(stateBytes < 2 * 1024 * 1024, `state log holds ${stateBytes} bytes`);
    await core.close();
  } finally {
    await temp.remove();
  }
});

test('filtered consumers resume after a restart', async () => {
  const temp = await tempDir();
  try {
    let core = await openCore({ dataDir: temp.dir });
    await core.addStream({ name: 'events', subjects: ['events.>'] });
    await core.addConsumer('events', { name: 'eu', filterSubject: 'events.eu.*' });
    let session = core.openSession();
    for (let index = 0; index < 20; index++) {
      await session.publishConfirmed({
        subject: index % 2 === 0 ? 'events.eu.x' : 'events.us.x',
        body: `m${index}`,
      });
    }
    const first = await session.fetch('events', 'eu', { batch: 3, expiresMs: 0 });
    assert.deepEqual(
      first.map((d) => d.message.body.toString()),
      ['m0', 'm2', 'm4'],
    );
    for (const delivery of first) session.ack(delivery);
    await core.close();
    core = await openCore({ dataDir: temp.dir });
    session = core.openSession();
    const rest: Delivery[] = [];
    for (;;) {
      const batch = await session.fetch('events', 'eu', { batch: 100, expiresMs: 0 });
      if (batch.length === 0) break;
      rest.push(...batch);
    }
    assert.deepEqual(
      rest.map((d) => d.message.body.toString()),
      ['m6', 'm8', 'm10', 'm12', 'm14', 'm16', 'm18'],
    );
    await core.close();
  } finally {
    await temp.remove();
  }
});
