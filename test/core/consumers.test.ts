// Consumer definitions: start positions, filters matched at publish time, ephemeral lifetime.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { isWeirError } from '../../src/common/errors.js';
import type { CoreSession, Delivery, DeliverPolicy } from '../../src/core/api.js';
import type { BrokerCore } from '../../src/core/broker.js';
import { openCore, until } from './helpers.js';

async function drain(session: CoreSession, consumer: string): Promise<Delivery[]> {
  const all: Delivery[] = [];
  for (;;) {
    const batch = await session.fetch('s', consumer, { batch: 100, expiresMs: 0 });
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

const text = (deliveries: readonly Delivery[]): string[] =>
  deliveries.map((delivery) => `${delivery.message.subject}=${delivery.message.body.toString()}`);

test('start positions: all, new, offset, time, last, last per subject', async () => {
  const clock = new ManualClock(1_000_000);
  const core = await openCore({ storage: 'memory', clock });
  try {
    await core.addStream({ name: 's', subjects: ['s.>'] });
    const session = core.openSession();
    const published: [string, string][] = [
      ['s.a', '1'],
      ['s.b', '2'],
      ['s.a', '3'],
      ['s.c', '4'],
      ['s.b', '5'],
    ];
    for (const [subject, body] of published) {
      await session.publishConfirmed({ subject, body });
      clock.advance(1_000);
    }
    const define = async (
      name: string,
      deliverPolicy: DeliverPolicy,
      filterSubject?: string,
    ): Promise<string[]> => {
      await core.addConsumer('s', {
        name,
        deliverPolicy,
        ...(filterSubject === undefined ? {} : { filterSubject }),
      });
      return text(await drain(session, name));
    };
    assert.deepEqual(await define('all', { kind: 'all' }), ['s.a=1', 's.b=2', 's.a=3', 's.c=4', 's.b=5']);
    assert.deepEqual(await define('offset', { kind: 'offset', offset: 3 }), ['s.c=4', 's.b=5']);
    assert.deepEqual(await define('time', { kind: 'time', timeMs: 1_002_000 }), ['s.a=3', 's.c=4', 's.b=5']);
    assert.deepEqual(await define('last', { kind: 'last' }), ['s.b=5']);
    assert.deepEqual(await define('last-a', { kind: 'last' }, 's.a'), ['s.a=3']);
    assert.deepEqual(await define('per-subject', { kind: 'last_per_subject' }), ['s.a=3', 's.c=4', 's.b=5']);
    assert.deepEqual(await define('new', { kind: 'new' }), []);
    await session.publishConfirmed({ subject: 's.a', body: '6' });
    assert.deepEqual(text(await drain(session, 'new')), ['s.a=6']);
    assert.deepEqual(text(await drain(session, 'per-subject')), ['s.a=6']);
  } finally {
    await core.close();
  }
});

test('a filtered consumer gets matches recorded at publish time and never scans others', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    await core.addStream({ name: 's', subjects: ['s.>'] });
    await core.addConsumer('s', { name: 'eu', filterSubject: 's.eu.*' });
    const session = core.openSession();
    for (let index = 0; index < 1_000; index++) {
      session.publish({ subject: index % 100 === 0 ? 's.eu.orders' : `s.us.n${index}`, body: `${index}` });
    }
    await until(() => core.streamInfo('s').messages === 1_000, 'stored');
    const got = await drain(session, 'eu');
    assert.deepEqual(
      got.map((delivery) => delivery.offset),
      [0, 100, 200, 300, 400, 500, 600, 700, 800, 900],
    );
    assert.equal(core.consumerInfo('s', 'eu').scanSkipped, 0);
  } finally {
    await core.close();
  }
});

test('a filtered consumer defined on existing data reads it once with a filtered scan, and counts it', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    await core.addStream({ name: 's', subjects: ['s.>'] });
    const session = core.openSession();
    for (let index = 0; index < 50; index++) {
      await session.publishConfirmed({ subject: index % 10 === 0 ? 's.eu' : 's.us', body: `${index}` });
    }
    await core.addConsumer('s', { name: 'eu', filterSubject: 's.eu' });
    await session.publishConfirmed({ subject: 's.eu', body: 'after' });
    const got = await drain(session, 'eu');
    assert.deepEqual(
      got.map((delivery) => delivery.message.body.toString()),
      ['0', '10', '20', '30', '40', 'after'],
    );
    assert.equal(core.consumerInfo('s', 'eu').scanSkipped, 45);
  } finally {
    await core.close();
  }
});

test('an ephemeral consumer is deleted when its last client leaves; redefinition must match', async () => {
  const core: BrokerCore = await openCore({ storage: 'memory' });
  try {
    await core.addStream({ name: 's', subjects: ['s.>'] });
    await core.addConsumer('s', { name: 'temp', durable: false });
    await core.addConsumer('s', { name: 'temp', durable: false });
    await assert.rejects(core.addConsumer('s', { name: 'temp', durable: false, ackWaitMs: 5 }), (error) =>
      isWeirError(error, 'WEIR_CONSUMER_EXISTS'),
    );
    const session = core.openSession();
    const attachment = session.attach('s', 'temp', { credit: 1, onDelivery: () => undefined });
    attachment.close();
    await until(() => core.listConsumers('s').length === 0, 'ephemeral consumer deleted');
    await assert.rejects(session.fetch('s', 'temp', { batch: 1, expiresMs: 0 }), (error) =>
      isWeirError(error, 'WEIR_CONSUMER_NOT_FOUND'),
    );
  } finally {
    await core.close();
  }
});

test('deleting a consumer closes its attachments with an error', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    await core.addStream({ name: 's', subjects: ['s.>'] });
    await core.addConsumer('s', { name: 'c' });
    let closedWith: Error | undefined;
    core
      .openSession()
      .attach('s', 'c', { credit: 1, onDelivery: () => undefined, onClosed: (e) => (closedWith = e) });
    assert.equal(await core.deleteConsumer('s', 'c'), true);
    assert.ok(isWeirError(closedWith, 'WEIR_CONSUMER_NOT_FOUND'));
  } finally {
    await core.close();
  }
});

test('live subscriptions through a session get messages that no stream stores', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    const session = core.openSession();
    const seen: string[] = [];
    session.subscribeLive('chat.*', { onMessage: (message) => seen.push(message.body.toString()) });
    core.openSession().publish({ subject: 'chat.room1', body: 'hello' });
    await until(() => seen.length === 1, 'live message');
    assert.equal(core.metrics().dropped, 0);
    await session.close();
    core.openSession().publish({ subject: 'chat.room1', body: 'gone' });
    assert.equal(core.metrics().dropped, 1);
  } finally {
    await core.close();
  }
});

test('invalid consumer options are refused with WEIR_INVALID_ARGUMENT', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    await core.addStream({ name: 's', subjects: ['s.>'] });
    for (const input of [
      { name: 'a', ackWaitMs: 0 },
      { name: 'b', maxDeliver: 0 },
      { name: 'c', maxAckPending: 0 },
      { name: 'd', backoffMs: [-1] },
      { name: 'e', dispatch: 'random' as never },
      { name: 'f', deliverPolicy: { kind: 'offset' as const, offset: -1 } },
    ]) {
      await assert.rejects(core.addConsumer('s', input), (error) =>
        isWeirError(error, 'WEIR_INVALID_ARGUMENT'),
      );
    }
  } finally {
    await core.close();
  }
});

test("other subjects' messages do not hold a filtered consumer's ack floor or a workqueue back", async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    await core.addStream({ name: 's', subjects: ['s.>'], retention: 'workqueue' });
    await core.addConsumer('s', { name: 'eu', filterSubject: 's.eu' });
    await core.addConsumer('s', { name: 'us', filterSubject: 's.us' });
    const session = core.openSession();
    for (let index = 0; index < 300; index++) {
      session.publish({ subject: index % 3 === 0 ? 's.eu' : 's.us', body: `${index}` });
    }
    await until(() => core.streamInfo('s').messages === 300, 'stored');
    for (const deliveries of [await drain(session, 'eu'), await drain(session, 'us')]) {
      for (const delivery of deliveries) session.ack(delivery);
    }
    // Offsets of the other subject are settled as each consumer reads past them.
    await session.fetch('s', 'eu', { batch: 1, expiresMs: 0 });
    await session.fetch('s', 'us', { batch: 1, expiresMs: 0 });
    assert.deepEqual(core.consumerInfo('s', 'eu').ackFloors, [300]);
    assert.deepEqual(core.consumerInfo('s', 'us').ackFloors, [300]);
    await until(() => core.streamInfo('s').messages === 0, 'the workqueue emptied');
  } finally {
    await core.close();
  }
});
