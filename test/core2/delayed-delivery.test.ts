import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import type { Delivery, StreamInfo } from '../../src/core/api.js';
import { bodies, openCore, settle, tempDir, until } from '../core/helpers.js';

/**
 * Advances a manual clock in small steps. Between steps it lets file I/O finish (the
 * thread pool does not run on setImmediate turns); timer logic itself runs off the clock.
 */
async function advance(clock: ManualClock, totalMs: number, stepMs = 100): Promise<void> {
  for (let done = 0; done < totalMs; done += stepMs) {
    clock.advance(Math.min(stepMs, totalMs - done));
    await settle(5);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

for (const storage of ['memory', 'file'] as const) {
  test(`${storage}: a delayed message is stored at publish and delivered at its time, on a queue and a topic`, async () => {
    const temp = await tempDir();
    const clock = new ManualClock();
    const core = await openCore({ dataDir: temp.dir, storage, clock });
    try {
      await core.addStream({ name: 'jobs', subjects: ['jobs'], retention: 'workqueue', storage });
      await core.addConsumer('jobs', { name: 'worker', dispatch: 'shared' });
      await core.addStream({ name: 'events', subjects: ['events.>'], retention: 'interest', storage });
      await core.addConsumer('events', { name: 'a' });
      await core.addConsumer('events', { name: 'b' });
      const session = core.openSession();
      const delayedAck = await session.publishConfirmed({ subject: 'jobs', body: 'later', delayMs: 2_000 });
      assert.deepEqual(delayedAck, {
        stream: 'jobs',
        partition: 0,
        offset: -1,
        duplicate: false,
        delayed: true,
      });
      await session.publishConfirmed({ subject: 'jobs', body: 'now' });
      await session.publishConfirmed({ subject: 'events.x', body: 'event-later', delayMs: 1_000 });
      assert.equal(core.streamInfo('jobs').delayed, 1);
      const jobs: Delivery[] = [];
      const a: Delivery[] = [];
      const b: Delivery[] = [];
      session.attach('jobs', 'worker', { credit: 10, onDelivery: (d) => jobs.push(d) });
      session.attach('events', 'a', { credit: 10, onDelivery: (d) => a.push(d) });
      session.attach('events', 'b', { credit: 10, onDelivery: (d) => b.push(d) });
      const live: string[] = [];
      core.openSession().subscribeLive('events.>', { onMessage: (m) => live.push(m.body.toString()) });
      await until(() => jobs.length === 1, 'the undelayed job');
      await advance(clock, 900);
      assert.deepEqual(bodies(jobs), ['now']);
      assert.equal(a.length + b.length + live.length, 0, 'nothing early');
      await advance(clock, 200);
      await until(
        () => a.length === 1 && b.length === 1 && live.length === 1,
        'the delayed event, to both durable subscribers and the live one',
      );
      assert.equal(a[0]?.message.deliverAfterMs, (a[0]?.message.timestampMs ?? 0) + 1_000);
      await advance(clock, 800);
      assert.deepEqual(bodies(jobs), ['now']);
      await advance(clock, 200);
      await until(() => jobs.length === 2, 'the delayed job');
      assert.deepEqual(bodies(jobs), ['now', 'later']);
      assert.equal(jobs[1]?.offset, 1, 'it took its offset when it fell due');
      assert.equal(core.streamInfo('jobs').delayed, 0);
    } finally {
      await core.close();
      await temp.remove();
    }
  });
}

test('delayed messages survive a restart and come out when due', async () => {
  const temp = await tempDir();
  const clock = new ManualClock();
  let core = await openCore({ dataDir: temp.dir, clock });
  try {
    await core.addStream({ name: 'jobs', subjects: ['jobs'], retention: 'workqueue' });
    await core.addConsumer('jobs', { name: 'worker' });
    const session = core.openSession();
    await session.publishConfirmed({ subject: 'jobs', body: 'in-an-hour', delayMs: 3_600_000 });
    await session.publishConfirmed({ subject: 'jobs', body: 'in-a-year', delayMs: 365 * 86_400_000 });
    await core.close();
    core = await openCore({ dataDir: temp.dir, clock });
    assert.equal(core.streamInfo('jobs').delayed, 2);
    const received: Delivery[] = [];
    core.openSession().attach('jobs', 'worker', { credit: 10, onDelivery: (d) => received.push(d) });
    clock.advance(3_600_000 - 5_000);
    await advance(clock, 6_000, 250);
    await until(() => received.length === 1, 'the hour-delayed job');
    assert.deepEqual(bodies(received), ['in-an-hour']);
    assert.equal(core.streamInfo('jobs').delayed, 1);
  } finally {
    await core.close();
    await temp.remove();
  }
});

test('a delayed message that expires while waiting is never delivered', async () => {
  const clock = new ManualClock();
  const core = await openCore({ storage: 'memory', clock });
  try {
    await core.addStream({ name: 'jobs', subjects: ['jobs'] });
    await core.addConsumer('jobs', { name: 'worker' });
    const session = core.openSession();
    await session.publishConfirmed({ subject: 'jobs', body: 'stale', delayMs: 1_000, ttlMs: 500 });
    await session.publishConfirmed({ subject: 'jobs', body: 'fresh', delayMs: 1_000, ttlMs: 5_000 });
    const received: Delivery[] = [];
    session.attach('jobs', 'worker', { credit: 10, onDelivery: (d) => received.push(d) });
    await advance(clock, 1_500);
    await until(() => received.length === 1, 'the fresh one');
    await settle(20);
    assert.deepEqual(bodies(received), ['fresh']);
  } finally {
    await core.close();
  }
});

test('expired messages are dead-lettered with reason expired, or dropped where the stream asks', async () => {
  const clock = new ManualClock();
  const core = await openCore({ storage: 'memory', clock });
  try {
    await core.addStream({ name: 'kept', subjects: ['kept'] });
    await core.addStream({ name: 'dropped', subjects: ['dropped'], deadLetterExpired: false });
    await core.addConsumer('kept', { name: 'c' });
    await core.addConsumer('dropped', { name: 'c' });
    const session = core.openSession();
    await session.publishConfirmed({ subject: 'kept', body: 'k', ttlMs: 100 });
    await session.publishConfirmed({ subject: 'dropped', body: 'd', ttlMs: 100 });
    clock.advance(200);
    assert.deepEqual(await session.fetch('kept', 'c', { batch: 10, expiresMs: 0 }), []);
    assert.deepEqual(await session.fetch('dropped', 'c', { batch: 10, expiresMs: 0 }), []);
    const captures = (subject: string) => (stream: StreamInfo) => stream.config.subjects.includes(subject);
    await until(() => core.listStreams().some(captures('$DLQ.kept')), 'a dead-letter stream for kept');
    const deadLetters = core.listStreams().find(captures('$DLQ.kept'));
    await until(
      () => core.streamInfo(deadLetters?.config.name ?? '').messages === 1,
      'the expired message dead-lettered',
    );
    assert.equal(core.listStreams().some(captures('$DLQ.dropped')), false, 'dropped, not dead-lettered');
    assert.equal(core.consumerInfo('dropped', 'c').expiredMessages, 1);
    assert.equal(core.consumerInfo('dropped', 'c').ackPending, 0);
  } finally {
    await core.close();
  }
});
