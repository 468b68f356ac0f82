// exclusive, failover, shared and key_shared dispatch, their ordering (DESIGN.md §1),
// cumulative acks, and max ack pending as flow control.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWeirError } from '../../src/common/errors.js';
import type { ConsumerConfigInput, CoreSession, Delivery } from '../../src/core/api.js';
import type { BrokerCore } from '../../src/core/broker.js';
import { bodies, openCore, settle, until } from './helpers.js';

async function withConsumer(
  consumer: ConsumerConfigInput,
  body: (core: BrokerCore, session: CoreSession) => Promise<void>,
): Promise<void> {
  const core = await openCore({ storage: 'memory' });
  try {
    await core.addStream({ name: 'orders', subjects: ['orders.>'] });
    await core.addConsumer('orders', consumer);
    await body(core, core.openSession());
  } finally {
    await core.close();
  }
}

test('exclusive: a second attachment is refused; offsets arrive in order, redeliveries first', async () => {
  await withConsumer({ name: 'c', dispatch: 'exclusive' }, async (core, session) => {
    const received: Delivery[] = [];
    const first = session.attach('orders', 'c', { credit: 3, onDelivery: (d) => received.push(d) });
    const other = core.openSession();
    assert.throws(
      () => other.attach('orders', 'c', { credit: 1, onDelivery: () => undefined }),
      (error) => isWeirError(error, 'WEIR_CONSUMER_BUSY'),
    );
    for (let index = 0; index < 6; index++) session.publish({ subject: 'orders.x', body: `m${index}` });
    await until(() => received.length === 3, 'three');
    assert.deepEqual(bodies(received), ['m0', 'm1', 'm2']);
    session.nack(received[1] as Delivery);
    session.ack(received[0] as Delivery);
    session.ack(received[2] as Delivery);
    await until(() => received.length === 6, 'three more');
    assert.deepEqual(
      bodies(received.slice(3)),
      ['m1', 'm3', 'm4'],
      'the redelivery overtakes, marked redelivered',
    );
    assert.equal(received[3]?.redelivered, true);
    first.close();
    const seen: Delivery[] = [];
    other.attach('orders', 'c', { credit: 10, onDelivery: (d) => seen.push(d) });
    await until(() => seen.length === 4, 'takeover after close');
    assert.deepEqual(bodies(seen), ['m1', 'm3', 'm4', 'm5']);
  });
});

test('cumulative ack settles every earlier delivery on exclusive and failover consumers only', async () => {
  await withConsumer({ name: 'c', dispatch: 'failover' }, async (core, session) => {
    const received: Delivery[] = [];
    session.attach('orders', 'c', { credit: 10, onDelivery: (d) => received.push(d) });
    for (let index = 0; index < 5; index++) session.publish({ subject: 'orders.x', body: `m${index}` });
    await until(() => received.length === 5, 'five');
    assert.equal(session.ack(received[3] as Delivery, { cumulative: true }), 'acked');
    const info = core.consumerInfo('orders', 'c');
    assert.equal(info.ackPending, 1);
    assert.deepEqual(info.ackFloors, [4]);
  });
  await withConsumer({ name: 'c', dispatch: 'shared' }, async (_core, session) => {
    const received: Delivery[] = [];
    session.attach('orders', 'c', { credit: 10, onDelivery: (d) => received.push(d) });
    session.publish({ subject: 'orders.x', body: 'm' });
    await until(() => received.length === 1, 'one');
    assert.throws(() => session.ack(received[0] as Delivery, { cumulative: true }), /cumulative/);
  });
});

test('failover: the oldest attachment gets everything; a standby takes over in order when it leaves', async () => {
  await withConsumer({ name: 'c', dispatch: 'failover' }, async (_core, session) => {
    const active: Delivery[] = [];
    const standby: Delivery[] = [];
    const first = session.attach('orders', 'c', { credit: 100, onDelivery: (d) => active.push(d) });
    session.attach('orders', 'c', { credit: 100, onDelivery: (d) => standby.push(d) });
    for (let index = 0; index < 4; index++) session.publish({ subject: 'orders.x', body: `m${index}` });
    await until(() => active.length === 4, 'active got all');
    assert.equal(standby.length, 0);
    session.ack(active[0] as Delivery);
    session.ack(active[1] as Delivery);
    first.close();
    await until(() => standby.length === 2, 'standby took over');
    assert.deepEqual(bodies(standby), ['m2', 'm3']);
  });
});

test('shared: round-robin over clients with credit', async () => {
  await withConsumer({ name: 'c', dispatch: 'shared' }, async (core, session) => {
    const a: Delivery[] = [];
    const b: Delivery[] = [];
    session.attach('orders', 'c', { credit: 100, onDelivery: (d) => a.push(d) });
    core.openSession().attach('orders', 'c', { credit: 100, onDelivery: (d) => b.push(d) });
    for (let index = 0; index < 10; index++) session.publish({ subject: 'orders.x', body: `m${index}` });
    await until(() => a.length + b.length === 10, 'all');
    assert.equal(a.length, 5);
    assert.equal(b.length, 5);
  });
});

test('key_shared: a key always goes to one client, in order, also when clients join and leave', async () => {
  await withConsumer({ name: 'c', dispatch: 'key_shared' }, async (core, session) => {
    const byClient = new Map<string, Delivery[]>();
    const attach = (name: string, owner: CoreSession): { close(): void } =>
      owner.attach('orders', 'c', {
        credit: 1000,
        onDelivery: (d) => {
          byClient.set(name, [...(byClient.get(name) ?? []), d]);
          owner.ack(d);
        },
      });
    const first = attach('one', session);
    attach('two', core.openSession());
    const keys = Array.from({ length: 20 }, (_, index) => `customer-${index}`);
    let sequence = 0;
    const publishRound = (): void => {
      for (const key of keys) session.publish({ subject: 'orders.x', key, body: `${key}:${sequence++}` });
    };
    publishRound();
    publishRound();
    await until(() => [...byClient.values()].flat().length === 40, 'two rounds');
    attach('three', core.openSession());
    publishRound();
    await until(() => [...byClient.values()].flat().length === 60, 'third round');
    first.close();
    publishRound();
    await until(() => [...byClient.values()].flat().length === 80, 'fourth round');
    const lastSeen = new Map<string, number>();
    for (const deliveries of byClient.values()) {
      const keysHere = new Set(deliveries.map((d) => d.message.key));
      assert.ok(keysHere.size > 0);
    }
    // Per-key order across all clients, by offset.
    const all = [...byClient.values()].flat().sort((x, y) => x.offset - y.offset);
    for (const delivery of all) {
      const [key, number] = delivery.message.body.toString().split(':') as [string, string];
      assert.ok((lastSeen.get(key) ?? -1) < Number(number));
      lastSeen.set(key, Number(number));
    }
    // Within a round, each key went to exactly one client.
    const rounds = new Map<string, Set<string>>();
    for (const [client, deliveries] of byClient) {
      for (const delivery of deliveries) {
        const round = Math.floor(delivery.offset / 20);
        const id = `${round}:${delivery.message.key}`;
        rounds.set(id, new Set([...(rounds.get(id) ?? []), client]));
      }
    }
    for (const clients of rounds.values()) assert.equal(clients.size, 1);
    assert.ok((byClient.get('three')?.length ?? 0) > 0, 'a joining client gets keys');
  });
});

test('key_shared keeps a key on its client while it has messages in flight', async () => {
  await withConsumer({ name: 'c', dispatch: 'key_shared' }, async (core, session) => {
    const one: Delivery[] = [];
    const two: Delivery[] = [];
    session.attach('orders', 'c', { credit: 100, onDelivery: (d) => one.push(d) });
    for (let index = 0; index < 5; index++)
      session.publish({ subject: 'orders.x', key: 'k', body: `m${index}` });
    await until(() => one.length === 5, 'all five to the only client');
    core.openSession().attach('orders', 'c', { credit: 100, onDelivery: (d) => two.push(d) });
    for (let index = 5; index < 10; index++)
      session.publish({ subject: 'orders.x', key: 'k', body: `m${index}` });
    await until(() => one.length === 10, 'the key stays while in flight');
    assert.equal(two.length, 0);
  });
});

test('max ack pending pauses delivery, counts the pause, and resumes on ack', async () => {
  await withConsumer({ name: 'c', maxAckPending: 3 }, async (core, session) => {
    const received: Delivery[] = [];
    session.attach('orders', 'c', { credit: 100, onDelivery: (d) => received.push(d) });
    for (let index = 0; index < 10; index++) session.publish({ subject: 'orders.x', body: `m${index}` });
    await until(() => received.length === 3, 'three');
    await settle();
    assert.equal(received.length, 3);
    const info = core.consumerInfo('orders', 'c');
    assert.equal(info.paused, 'ack_pending');
    assert.equal(info.pausedByAckPending, 1);
    session.ack(received[0] as Delivery);
    await until(() => received.length === 4, 'one more after an ack');
  });
});

test('a consumer whose unacked holes reach the limit stops receiving new messages, with a metric', async () => {
  const core = await openCore({ storage: 'memory', consumerAckHolesMax: 3 });
  try {
    await core.addStream({ name: 'orders', subjects: ['orders.>'] });
    await core.addConsumer('orders', { name: 'c', dispatch: 'shared' });
    const session = core.openSession();
    const received: Delivery[] = [];
    session.attach('orders', 'c', { credit: 5, onDelivery: (d) => received.push(d) });
    for (let index = 0; index < 10; index++) session.publish({ subject: 'orders.x', body: `m${index}` });
    await until(() => received.length === 5, 'five');
    session.ack(received[4] as Delivery); // offsets 0–3 are now holes below the highest ack
    await settle();
    assert.equal(received.length, 5);
    let info = core.consumerInfo('orders', 'c');
    assert.equal(info.paused, 'ack_holes');
    assert.equal(info.pausedByAckHoles, 1);
    session.ack(received[0] as Delivery);
    session.ack(received[1] as Delivery);
    await until(() => received.length === 8, 'delivery resumes once holes close');
    info = core.consumerInfo('orders', 'c');
    assert.equal(info.paused, undefined);
  } finally {
    await core.close();
  }
});
