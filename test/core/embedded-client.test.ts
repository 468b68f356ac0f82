import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Broker, isWeirError, ManualClock, type ReceivedMessage } from '../../src/index.js';
import { settle, tempDir, until } from './helpers.js';

test('Broker.start, createQueue, callback handler acks; a throwing handler nacks and the message comes back', async () => {
  const temp = await tempDir();
  const broker = await Broker.start({ dataDir: temp.dir });
  try {
    const client = broker.connect();
    await client.createQueue('jobs');
    await client.publishConfirmed('jobs', 'a');
    await client.publishConfirmed('jobs', 'b');
    const seen: string[] = [];
    const errors: string[] = [];
    let failOnce = true;
    const subscription = client.subscribe(
      { stream: 'jobs', consumer: 'jobs' },
      {
        callback: (message) => {
          seen.push(`${message.string()}#${message.deliveryCount}`);
          if (message.string() === 'b' && failOnce) {
            failOnce = false;
            throw new Error('boom');
          }
        },
        onError: (error) => errors.push(error.message),
      },
    );
    await until(() => seen.length === 3, 'three handler calls');
    assert.deepEqual(seen, ['a#1', 'b#1', 'b#2']);
    assert.deepEqual(errors, ['boom']);
    assert.equal(subscription.failures, 1);
    await until(() => broker.core.consumerInfo('jobs', 'jobs').ackPending === 0, 'all acked');
    assert.equal(broker.core.consumerInfo('jobs', 'jobs').acked, 2);
    await subscription.close();
    await client.close();
  } finally {
    await broker.close();
    await temp.remove();
  }
});

test('async iterator subscription: the reader acks; leaving the loop redelivers the unacked', async () => {
  const broker = await Broker.start({ storage: 'memory' });
  try {
    const client = broker.connect();
    await client.admin.addStream({ name: 'events', subjects: ['events.*'] });
    await client.admin.addConsumer('events', { name: 'reader', dispatch: 'exclusive' });
    for (let index = 0; index < 5; index++) client.publish('events.x', `m${index}`);
    const subscription = client.subscribe({ stream: 'events', consumer: 'reader' }, { prefetch: 2 });
    const got: ReceivedMessage[] = [];
    for await (const message of subscription) {
      got.push(message);
      if (got.length <= 3) message.ack();
      if (got.length === 4) break;
    }
    await settle();
    const fetched = await client.fetch(
      { stream: 'events', consumer: 'reader' },
      { batch: 5, expiresMs: 100 },
    );
    assert.deepEqual(
      fetched.map((message) => `${message.string()}:${message.deliveryCount}`),
      ['m3:2', 'm4:2'],
      'the unacked fourth (and the prefetched fifth) come back, in order',
    );
    await client.close();
  } finally {
    await broker.close();
  }
});

test('durable topic subscription keeps messages while the subscriber is away; live ones do not', async () => {
  const broker = await Broker.start({ storage: 'memory' });
  try {
    const client = broker.connect();
    const durable = client.subscribe('news.*', { durable: 'alice' });
    const live: string[] = [];
    const liveSubscription = client.subscribe('news.*', {
      callback: (message) => void live.push(message.string()),
    });
    await until(() => broker.core.listStreams().length === 1, 'topic stream created');
    await settle();
    client.publish('news.a', 'first');
    const iterator = durable[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.equal(first.done, false);
    (first.value as ReceivedMessage).ack();
    await durable.close();
    client.publish('news.a', 'while away');
    await until(() => live.length === 2, 'live got both');
    const again = client.subscribe('news.*', { durable: 'alice' });
    const next = await again[Symbol.asyncIterator]().next();
    assert.equal((next.value as ReceivedMessage).string(), 'while away');
    (next.value as ReceivedMessage).ack();
    await again.close();
    await liveSubscription.close();
    await client.close();
  } finally {
    await broker.close();
  }
});

test('publishConfirmed with no stream rejects WEIR_NO_STREAM', async () => {
  const broker = await Broker.start({ storage: 'memory' });
  try {
    const client = broker.connect();
    await assert.rejects(client.publishConfirmed('nobody.home', 'x'), (error) =>
      isWeirError(error, 'WEIR_NO_STREAM'),
    );
  } finally {
    await broker.close();
  }
});

test('client fetch, nack with delay, term to the dead-letter stream, and a stale ackConfirmed', async () => {
  const clock = new ManualClock();
  const broker = await Broker.start({ storage: 'memory', clock });
  try {
    const client = broker.connect();
    await client.admin.addStream({ name: 'work', subjects: ['work.*'] });
    await client.admin.addConsumer('work', { name: 'w', ackWaitMs: 1_000 });
    await client.publishConfirmed('work.a', 'one');
    await client.publishConfirmed('work.a', 'two');
    const target = { stream: 'work', consumer: 'w' };
    const [one, two] = await client.fetch(target, { batch: 2, expiresMs: 0 });
    assert.ok(one !== undefined && two !== undefined);
    client.nack(one, { delayMs: 500 });
    client.term(two, 'unparseable');
    clock.advance(500);
    const [again] = await client.fetch(target, { batch: 1, expiresMs: 1_000 });
    assert.equal(again?.string(), 'one');
    assert.equal(again?.deliveryCount, 2);
    clock.advance(1_000); // ack wait passes: this attempt is stale now
    assert.equal(await again?.ackConfirmed(), 'stale');
    const [third] = await client.fetch(target, { batch: 1, expiresMs: 1_000 });
    assert.equal(await third?.ackConfirmed(), 'acked');
    await until(() => broker.core.listStreams().some((stream) => stream.config.name === 'DLQ_work'), 'dlq');
    const dlq = await client.admin.streamInfo('DLQ_work');
    assert.equal(dlq.config.subjects[0], '$DLQ.work');
    assert.equal((await client.admin.consumerInfo('work', 'w')).staleAcks, 1);
  } finally {
    await broker.close();
  }
});
