import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, isWeirError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import { BrokerCore } from './broker.js';
import {
  deleteDurableSubscription,
  durableConsumerName,
  encodeName,
  ensureDurableSubscription,
  ensureQueue,
  ensureSubscriptionStream,
  filterCovers,
  releaseUnusedSubjects,
  queueStreamName,
  topicStreamName,
} from './destinations.js';

test('encodeName keeps letters, digits and dashes and escapes every other byte', () => {
  assert.equal(encodeName('orders'), 'orders');
  assert.equal(encodeName('orders.eu'), 'orders_2eeu');
  assert.equal(encodeName('a-b'), 'a-b');
  assert.equal(encodeName('a_b'), 'a_5fb');
  assert.equal(encodeName('caf\u00e9'), 'caf_c3_a9');
  // Distinct names never collide, even when one looks like another's encoding.
  assert.notEqual(encodeName('a.b'), encodeName('a_2eb'));
  assert.throws(
    () => encodeName(''),
    (error: unknown) => isWeirError(error, ErrorCode.InvalidArgument),
  );
  assert.throws(
    () => encodeName('x.'.repeat(Limits.nameLengthMax)),
    (error: unknown) => isWeirError(error, ErrorCode.InvalidArgument),
  );
  assert.equal(queueStreamName('orders.eu'), 'orders_2eeu');
});

test('durable consumer names pair client id and name unambiguously', () => {
  assert.equal(durableConsumerName('scores'), 'scores');
  assert.equal(durableConsumerName('scores', 'app-1'), 'app-1__scores');
  assert.notEqual(durableConsumerName('b', 'a_'), durableConsumerName('_b', 'a'));
  assert.notEqual(durableConsumerName('a__b'), durableConsumerName('b', 'a'));
});

test('topic stream names are deterministic and stay within the name limit', () => {
  assert.equal(topicStreamName('news.>'), 'topic-news_2e_3e');
  const long = `${'segment.'.repeat(40)}end`;
  const name = topicStreamName(long);
  assert.ok(name.length <= Limits.nameLengthMax);
  assert.equal(name, topicStreamName(long));
  assert.notEqual(name, topicStreamName(`${'segment.'.repeat(40)}enD`));
});

test('filterCovers', () => {
  assert.ok(filterCovers('a.>', 'a.b.c'));
  assert.ok(filterCovers('a.*', 'a.b'));
  assert.ok(filterCovers('a.b', 'a.b'));
  assert.ok(!filterCovers('a.b', 'a.*'));
  assert.ok(!filterCovers('a.*', 'a.>'));
  assert.ok(!filterCovers('a.>', 'a'));
});

test('ensureQueue and ensureDurableSubscription on a core', async () => {
  const core = await BrokerCore.open({ storage: 'memory' });
  try {
    const first = await ensureQueue(core, 'orders.eu');
    const again = await ensureQueue(core, 'orders.eu');
    assert.deepEqual([again.stream, again.consumer], [first.stream, first.consumer]);
    assert.equal(first.streamInfo.config.retention, 'workqueue');
    assert.equal(first.consumerInfo.config.dispatch, 'shared');
    await assert.rejects(ensureQueue(core, 'orders.*'), (error: unknown) =>
      isWeirError(error, ErrorCode.InvalidSubject),
    );

    // A stream that already covers the topic is reused, with a filter on the consumer.
    await core.addStream({ name: 'events', subjects: ['events.>'], retention: 'limits' });
    const narrow = await ensureDurableSubscription(core, {
      topicFilter: 'events.login',
      subscriptionName: 'logins',
      clientId: 'app',
    });
    assert.deepEqual(narrow, { stream: 'events', consumer: 'app__logins' });
    assert.equal(core.consumerInfo('events', 'app__logins').config.filterSubject, 'events.login');

    // No stream yet: a new interest stream, named deterministically; a second subscription shares it.
    const one = await ensureDurableSubscription(core, { topicFilter: 'news.eu', subscriptionName: 'one' });
    const two = await ensureDurableSubscription(core, { topicFilter: 'news.eu', subscriptionName: 'two' });
    assert.equal(one.stream, topicStreamName('news.eu'));
    assert.equal(two.stream, one.stream);
    assert.equal(core.streamInfo(one.stream).config.retention, 'interest');

    // Partly overlapping an existing topic stream, or overlapping a queue: refused.
    await assert.rejects(
      ensureDurableSubscription(core, { topicFilter: 'news.*', subscriptionName: 'wide' }),
      (error: unknown) => isWeirError(error, ErrorCode.DestinationConflict),
    );
    await assert.rejects(
      ensureDurableSubscription(core, { topicFilter: 'orders.>', subscriptionName: 'all' }),
      (error: unknown) => isWeirError(error, ErrorCode.DestinationConflict),
    );

    // Same name on another topic: moved there (JMS semantics).
    const moved = await ensureDurableSubscription(core, {
      topicFilter: 'events.logout',
      subscriptionName: 'one',
    });
    assert.equal(moved.stream, 'events');
    assert.ok(!core.listConsumers(one.stream).some((consumer) => consumer.config.name === 'one'));

    assert.equal(await deleteDurableSubscription(core, 'logins', 'app'), true);
    assert.equal(await deleteDurableSubscription(core, 'logins', 'app'), false);
  } finally {
    await core.close();
  }
});

test('racing creations settle into one stream or a WEIR_DESTINATION_CONFLICT, never a raw overlap error', async () => {
  const core = await BrokerCore.open({ storage: 'memory' });
  try {
    const conflictOrOk = (outcome: PromiseSettledResult<unknown>): boolean =>
      outcome.status === 'fulfilled' || isWeirError(outcome.reason, ErrorCode.DestinationConflict);
    const queueAndTopic = await Promise.allSettled([
      ensureQueue(core, 'race.a'),
      ensureDurableSubscription(core, { topicFilter: 'race.>', subscriptionName: 'wide' }),
    ]);
    assert.ok(queueAndTopic.every(conflictOrOk), JSON.stringify(queueAndTopic));
    assert.equal(queueAndTopic.filter((outcome) => outcome.status === 'fulfilled').length, 1);

    const sameQueue = await Promise.all([ensureQueue(core, 'jobs.x'), ensureQueue(core, 'jobs.x')]);
    assert.equal(sameQueue[0].stream, sameQueue[1].stream);
    const sameTopic = await Promise.all([
      ensureDurableSubscription(core, { topicFilter: 'feed.x', subscriptionName: 'a' }),
      ensureDurableSubscription(core, { topicFilter: 'feed.x', subscriptionName: 'b' }),
    ]);
    assert.equal(sameTopic[0].stream, sameTopic[1].stream);
  } finally {
    await core.close();
  }
});

test('ensureSubscriptionStream shares topic streams among filtered consumers, widens and releases them', async () => {
  const core = await BrokerCore.open({ storage: 'memory' });
  try {
    const conflict = (error: unknown): boolean => isWeirError(error, ErrorCode.DestinationConflict);
    const subjects = (name: string): readonly string[] =>
      core.listStreams().find((stream) => stream.config.name === name)?.config.subjects ?? [];
    const filtered = async (stream: string, name: string, filter: string): Promise<void> => {
      await core.addConsumer(stream, { name, durable: true, ackPolicy: 'explicit', filterSubject: filter });
    };

    const first = await ensureSubscriptionStream(core, 'devices.1.cmd', {
      maxBytes: 1 << 20,
      maxAgeMs: 60_000,
    });
    assert.deepEqual(first, { stream: topicStreamName('devices.1.cmd'), changed: true });
    const created = core.listStreams().find((stream) => stream.config.name === first.stream);
    assert.equal(created?.config.retention, 'interest');
    assert.equal(created?.config.maxBytes, 1 << 20);
    await filtered(first.stream, 'one', 'devices.1.cmd');
    // A second, unrelated filter joins the same stream rather than making one more.
    const second = await ensureSubscriptionStream(core, 'devices.2.cmd');
    assert.deepEqual(second, { stream: first.stream, changed: true });
    await filtered(first.stream, 'two', 'devices.2.cmd');
    // A covered filter uses it as it is; a wider one widens it and replaces what it covers.
    assert.deepEqual(await ensureSubscriptionStream(core, 'devices.1.cmd'), {
      stream: first.stream,
      changed: false,
    });
    assert.deepEqual(await ensureSubscriptionStream(core, 'devices.*.cmd'), {
      stream: first.stream,
      changed: true,
    });
    assert.deepEqual(subjects(first.stream), ['devices.*.cmd']);
    await filtered(first.stream, 'all', 'devices.*.cmd');

    // Someone else's stream is never widened: partial overlap is a conflict, and so is a queue.
    await core.addStream({ name: 'telemetry', subjects: ['telemetry.eu.*'] });
    await assert.rejects(ensureSubscriptionStream(core, 'telemetry.>'), conflict);
    assert.equal((await ensureSubscriptionStream(core, 'telemetry.eu.t')).stream, 'telemetry');
    await ensureQueue(core, 'jobs');
    await assert.rejects(ensureSubscriptionStream(core, 'jobs'), conflict);

    // When consumers go, the subjects nobody filters within any more go too.
    await core.deleteConsumer(first.stream, 'all');
    assert.equal(
      await releaseUnusedSubjects(core, first.stream),
      false,
      'one and two still need devices.*.cmd',
    );
    await core.deleteConsumer(first.stream, 'one');
    await core.deleteConsumer(first.stream, 'two');
    await filtered(first.stream, 'other', 'devices.1.cmd');
    await core.updateStream({ name: first.stream, subjects: ['devices.*.cmd', 'rooms.>'] });
    assert.equal(await releaseUnusedSubjects(core, first.stream), true);
    assert.deepEqual(subjects(first.stream), ['devices.*.cmd']);

    // A durable subscription on one subject of a shared stream filters, so it gets only its own.
    await ensureSubscriptionStream(core, 'alarms.fire');
    assert.deepEqual(subjects(first.stream), ['devices.*.cmd', 'alarms.fire']);
    const ref = await ensureDurableSubscription(core, {
      topicFilter: 'alarms.fire',
      subscriptionName: 'fire',
    });
    assert.equal(ref.stream, first.stream);
    assert.equal(core.consumerInfo(ref.stream, 'fire').config.filterSubject, 'alarms.fire');
  } finally {
    await core.close();
  }
});
