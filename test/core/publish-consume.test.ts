import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { isWeirError } from '../../src/common/errors.js';
import type { Delivery } from '../../src/core/api.js';
import { bodies, openCore, settle, tempDir, until } from './helpers.js';

for (const storage of ['memory', 'file'] as const) {
  test(`${storage}: publish, push with credit, fetch, ack`, async () => {
    const temp = await tempDir();
    const core = await openCore({ dataDir: temp.dir, storage, clock: new ManualClock() });
    try {
      await core.addStream({ name: 'orders', subjects: ['orders.>'], storage });
      await core.addConsumer('orders', { name: 'worker' });
      const session = core.openSession();
      const ack = await session.publishConfirmed({ subject: 'orders.eu', body: 'one' });
      assert.deepEqual(ack, { stream: 'orders', partition: 0, offset: 0, duplicate: false });
      session.publish({ subject: 'orders.us', body: 'two' });
      session.publish({ subject: 'orders.us', body: 'three' });
      const received: Delivery[] = [];
      const attachment = session.attach('orders', 'worker', {
        credit: 2,
        onDelivery: (d) => received.push(d),
      });
      await until(() => received.length === 2, 'two deliveries');
      await settle();
      assert.deepEqual(bodies(received), ['one', 'two']);
      assert.equal(received[0]?.deliveryCount, 1);
      assert.equal(session.ack(received[0] as Delivery), 'acked');
      await until(() => received.length === 3, 'credit returned by ack');
      assert.equal(received[2]?.message.body.toString(), 'three');
      attachment.close();
      // The two unacked ones are redelivered to a fetch.
      const fetched = await session.fetch('orders', 'worker', { batch: 10, expiresMs: 1000 });
      assert.deepEqual(bodies(fetched), ['two', 'three']);
      assert.ok(fetched.every((d) => d.redelivered && d.deliveryCount === 2));
      for (const d of fetched) assert.equal(session.ack(d), 'acked');
      assert.equal(session.ack(fetched[0] as Delivery), 'duplicate');
      const info = core.consumerInfo('orders', 'worker');
      assert.equal(info.ackPending, 0);
      assert.deepEqual(info.ackFloors, [3]);
    } finally {
      await core.close();
      await temp.remove();
    }
  });
}

test('confirmed publish without a stream is refused; fire-and-forget is counted as dropped', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    const session = core.openSession();
    await assert.rejects(session.publishConfirmed({ subject: 'nowhere', body: 'x' }), (error) =>
      isWeirError(error, 'WEIR_NO_STREAM'),
    );
    session.publish({ subject: 'nowhere', body: 'x' });
    assert.equal(core.metrics().dropped, 1);
    const live = session.subscribeLive('nowhere', { onMessage: () => undefined });
    session.publish({ subject: 'nowhere', body: 'x' });
    assert.equal(core.metrics().dropped, 1, 'a live subscription took it');
    live.close();
  } finally {
    await core.close();
  }
});

test('fetch long-polls until a message arrives, and returns empty at expiry', async () => {
  const clock = new ManualClock();
  const core = await openCore({ storage: 'memory', clock });
  try {
    await core.addStream({ name: 's', subjects: ['s'] });
    await core.addConsumer('s', { name: 'c' });
    const session = core.openSession();
    const waiting = session.fetch('s', 'c', { batch: 5, expiresMs: 10_000 });
    await settle();
    session.publish({ subject: 's', body: 'late' });
    assert.deepEqual(bodies(await waiting), ['late']);
    const empty = session.fetch('s', 'c', { batch: 5, expiresMs: 500 });
    await settle();
    clock.advance(500);
    assert.deepEqual(await empty, []);
  } finally {
    await core.close();
  }
});

test('closing a session ends its waiting fetch with WEIR_CLOSED', async () => {
  const core = await openCore({ storage: 'memory', clock: new ManualClock() });
  try {
    await core.addStream({ name: 's', subjects: ['s'] });
    await core.addConsumer('s', { name: 'c' });
    const session = core.openSession();
    const waiting = session.fetch('s', 'c', { batch: 1, expiresMs: 60_000 });
    await settle();
    await session.close();
    await assert.rejects(waiting, (error) => isWeirError(error, 'WEIR_CLOSED'));
  } finally {
    await core.close();
  }
});
