import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../common/clock.js';
import { ErrorCode, isWeirError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import type { LiveSubscribeOptions, Message, PublishInput } from './api.js';
import { LiveRouter } from './live-router.js';
import { createMessage } from './message.js';

/** A router whose delivery turns run only when the test says so. */
function setup(options: { bufferMessagesMaxDefault?: number; bufferBytesMax?: number } = {}) {
  const clock = new ManualClock();
  const turns: (() => void)[] = [];
  const router = new LiveRouter({
    clock,
    bufferMessagesMaxDefault: options.bufferMessagesMaxDefault ?? 100,
    ...(options.bufferBytesMax === undefined ? {} : { bufferBytesMax: options.bufferBytesMax }),
    schedule: (callback) => turns.push(callback),
  });
  const message = (subject: string, body = '', extra: Partial<PublishInput> = {}): Message =>
    createMessage({ subject, body, ...extra }, clock.nowMs());
  /** Runs one pending delivery turn; false if none was pending. */
  const turn = (): boolean => {
    const next = turns.shift();
    next?.();
    return next !== undefined;
  };
  const drain = (): void => {
    while (turn());
  };
  return { clock, router, message, turn, drain };
}

interface Recorder {
  readonly bodies: string[];
  readonly closes: (Error | undefined)[];
  readonly options: LiveSubscribeOptions;
}

function recorder(extra: Partial<LiveSubscribeOptions> = {}): Recorder {
  const bodies: string[] = [];
  const closes: (Error | undefined)[] = [];
  return {
    bodies,
    closes,
    options: {
      onMessage: (message) => bodies.push(message.body.toString()),
      onClosed: (error) => closes.push(error),
      ...extra,
    },
  };
}

test('publish hands a message to matching subscriptions and delivers it on a later turn', () => {
  const { router, message, drain } = setup();
  const star = recorder();
  const tail = recorder();
  const other = recorder();
  router.subscribe('s1', 'orders.*', star.options);
  router.subscribe('s1', 'orders.>', tail.options);
  router.subscribe('s2', 'payments.>', other.options);
  assert.equal(router.subscriptionCount, 3);
  assert.equal(router.publish(message('orders.eu', 'one'), undefined), 2);
  assert.equal(router.publish(message('orders.eu.x', 'two'), undefined), 1);
  assert.equal(router.publish(message('nobody.here'), undefined), 0);
  assert.deepEqual(star.bodies, [], 'nothing is delivered inside publish');
  drain();
  assert.deepEqual(star.bodies, ['one']);
  assert.deepEqual(tail.bodies, ['one', 'two']);
  assert.deepEqual(other.bodies, []);
});

test('$ subjects reach only filters that name the $ token [MQTT-4.7.2-1]', () => {
  const { router, message, drain } = setup();
  const all = recorder();
  const dlq = recorder();
  router.subscribe('s', '>', all.options);
  router.subscribe('s', '$DLQ.>', dlq.options);
  assert.equal(router.publish(message('$DLQ.orders', 'dead'), undefined), 1);
  drain();
  assert.deepEqual(all.bodies, []);
  assert.deepEqual(dlq.bodies, ['dead']);
});

test('subscriptions take turns in batches, and one turn delivers a bounded number', () => {
  const { router, message, turn } = setup({ bufferMessagesMaxDefault: Limits.liveBufferMessagesMax });
  const order: string[] = [];
  router.subscribe('s', 'a', { onMessage: () => order.push('first') });
  router.subscribe('s', 'a', { onMessage: () => order.push('second') });
  const batch = Limits.liveDeliveryBatchMessagesMax;
  for (let index = 0; index < batch * 2; index++) router.publish(message('a', String(index)), undefined);
  turn();
  const runs = order.reduce<string[]>(
    (found, name) => (found.at(-1) === name ? found : [...found, name]),
    [],
  );
  assert.deepEqual(runs, ['first', 'second', 'first', 'second']);
  assert.equal(order.length, batch * 4);
  assert.equal(turn(), false, 'no more turns scheduled');

  const received: number[] = [];
  router.subscribe('t', 'b', { onMessage: (published) => received.push(Number(published.body.toString())) });
  const total = Limits.liveDeliveryTurnMessagesMax + 10;
  for (let index = 0; index < total; index++) router.publish(message('b', String(index)), undefined);
  turn();
  assert.equal(received.length, Limits.liveDeliveryTurnMessagesMax);
  assert.equal(turn(), true, 'the rest waits for another turn');
  assert.deepEqual(
    received,
    Array.from({ length: total }, (_, index) => index),
    'in order',
  );
});

test('drop_oldest keeps the newest messages and counts the dropped ones', () => {
  const { router, message, drain } = setup();
  const subscriber = recorder({ bufferMessagesMax: 3, slowConsumerPolicy: 'drop_oldest' });
  const subscription = router.subscribe('s', 'a', subscriber.options);
  for (let index = 0; index < 5; index++)
    assert.equal(router.publish(message('a', String(index)), undefined), 1);
  assert.equal(subscription.droppedCount, 2);
  drain();
  assert.deepEqual(subscriber.bodies, ['2', '3', '4']);
  assert.deepEqual(subscriber.closes, []);
});

test('a synchronous publisher cannot grow a subscription buffer past its bound', () => {
  const { router, message, drain } = setup();
  const subscriber = recorder({ bufferMessagesMax: 100 });
  const subscription = router.subscribe('s', 'a', subscriber.options);
  const published = message('a', 'x');
  for (let index = 0; index < 100_000; index++) router.publish(published, undefined);
  assert.equal(subscription.droppedCount, 100_000 - 100);
  drain();
  assert.equal(subscriber.bodies.length, 100);
});

test('the body-byte bound drops too, but always keeps the newest message', () => {
  const { router, message, drain } = setup({ bufferBytesMax: 10 });
  const subscriber = recorder();
  const subscription = router.subscribe('s', 'a', subscriber.options);
  for (const body of ['aaaa', 'bbbb', 'cccc', 'a-body-over-ten-bytes'])
    router.publish(message('a', body), undefined);
  assert.equal(subscription.droppedCount, 3);
  drain();
  assert.deepEqual(subscriber.bodies, ['a-body-over-ten-bytes']);
});

test('disconnect closes a slow subscription with WEIR_SLOW_CONSUMER, once', () => {
  const { router, message, drain } = setup();
  const slow = recorder({ bufferMessagesMax: 2, slowConsumerPolicy: 'disconnect' });
  const fast = recorder({ bufferMessagesMax: 10 });
  router.subscribe('s', 'a', slow.options);
  router.subscribe('s', 'a', fast.options);
  assert.equal(router.publish(message('a', '1'), undefined), 2);
  assert.equal(router.publish(message('a', '2'), undefined), 2);
  assert.equal(router.publish(message('a', '3'), undefined), 1);
  assert.equal(router.publish(message('a', '4'), undefined), 1);
  assert.equal(router.subscriptionCount, 1);
  drain();
  assert.deepEqual(slow.bodies, [], 'buffered messages are discarded on disconnect');
  assert.equal(slow.closes.length, 1);
  assert.ok(isWeirError(slow.closes[0], ErrorCode.SlowConsumer));
  assert.match(slow.closes[0].message, /bufferMessagesMax 2/);
  assert.deepEqual(fast.bodies, ['1', '2', '3', '4']);
});

test('a queue group hands each message to one member, round-robin', () => {
  const { router, message, drain } = setup();
  const members = [
    recorder({ queueGroup: 'g' }),
    recorder({ queueGroup: 'g' }),
    recorder({ queueGroup: 'g' }),
  ];
  members.forEach((member, index) => router.subscribe(`s${index}`, 'jobs.*', member.options));
  const otherGroup = recorder({ queueGroup: 'h' });
  const plain = recorder();
  const otherFilter = recorder({ queueGroup: 'g' });
  router.subscribe('x', 'jobs.*', otherGroup.options);
  router.subscribe('x', 'jobs.*', plain.options);
  router.subscribe('x', 'jobs.>', otherFilter.options);
  for (let index = 0; index < 6; index++) {
    assert.equal(router.publish(message('jobs.run', String(index)), undefined), 4);
  }
  drain();
  assert.deepEqual(
    members.map((member) => member.bodies),
    [
      ['0', '3'],
      ['1', '4'],
      ['2', '5'],
    ],
  );
  for (const whole of [otherGroup, plain, otherFilter]) assert.equal(whole.bodies.length, 6);
});

test('a queue group passes over a member with a full buffer while another has room', () => {
  const { router, message, drain } = setup();
  const small = recorder({ queueGroup: 'g', bufferMessagesMax: 1 });
  const large = recorder({ queueGroup: 'g', bufferMessagesMax: 10 });
  const smallSubscription = router.subscribe('s1', 'a', small.options);
  router.subscribe('s2', 'a', large.options);
  for (let index = 0; index < 5; index++) router.publish(message('a', String(index)), undefined);
  assert.equal(smallSubscription.droppedCount, 0);
  drain();
  assert.deepEqual(small.bodies, ['0']);
  assert.deepEqual(large.bodies, ['1', '2', '3', '4']);
});

test('closing a group member leaves the group working; the last one removes it', () => {
  const { router, message, drain } = setup();
  const first = recorder({ queueGroup: 'g' });
  const second = recorder({ queueGroup: 'g' });
  const firstSubscription = router.subscribe('s1', 'a', first.options);
  const secondSubscription = router.subscribe('s2', 'a', second.options);
  firstSubscription.close();
  assert.equal(router.publish(message('a', '1'), undefined), 1);
  assert.equal(router.publish(message('a', '2'), undefined), 1);
  drain();
  secondSubscription.close();
  assert.equal(router.publish(message('a', '3'), undefined), 0);
  drain();
  assert.deepEqual(first.bodies, []);
  assert.deepEqual(second.bodies, ['1', '2']);
  assert.equal(router.subscriptionCount, 0);
});

test('noLocal skips messages the same session published', () => {
  const { router, message, drain } = setup();
  const local = recorder({ noLocal: true });
  const echo = recorder();
  router.subscribe('me', 'chat', local.options);
  router.subscribe('me', 'chat', echo.options);
  assert.equal(router.publish(message('chat', 'mine'), 'me'), 1);
  assert.equal(router.publish(message('chat', 'theirs'), 'you'), 2);
  assert.equal(router.publish(message('chat', 'anonymous'), undefined), 2);
  drain();
  assert.deepEqual(local.bodies, ['theirs', 'anonymous']);
  assert.deepEqual(echo.bodies, ['mine', 'theirs', 'anonymous']);
});

test('noLocal members of a queue group are skipped for their own messages', () => {
  const { router, message, drain } = setup();
  const local = recorder({ queueGroup: 'g', noLocal: true });
  const remote = recorder({ queueGroup: 'g', noLocal: true });
  router.subscribe('me', 'a', local.options);
  router.subscribe('you', 'a', remote.options);
  for (let index = 0; index < 3; index++) router.publish(message('a', String(index)), 'me');
  drain();
  assert.deepEqual(local.bodies, []);
  assert.deepEqual(remote.bodies, ['0', '1', '2']);
});

test('closeSession closes that session only; onClosed runs once, later, with undefined', () => {
  const { router, message, drain } = setup();
  const mine = [recorder(), recorder({ queueGroup: 'g' })];
  const theirs = recorder();
  const subscriptions = mine.map((subscriber) => router.subscribe('me', 'a', subscriber.options));
  router.subscribe('you', 'a', theirs.options);
  router.publish(message('a', 'buffered'), undefined);
  router.closeSession('me');
  assert.deepEqual(mine[0]!.closes, [], 'onClosed does not run inside the router call');
  subscriptions[0]!.close();
  router.closeSession('me');
  assert.equal(router.subscriptionCount, 1);
  assert.equal(router.publish(message('a', 'after'), undefined), 1);
  drain();
  for (const subscriber of mine) {
    assert.deepEqual(subscriber.closes, [undefined]);
    assert.deepEqual(subscriber.bodies, []);
  }
  assert.deepEqual(theirs.bodies, ['buffered', 'after']);
});

test('a throwing onMessage closes that subscription with the error; others carry on', () => {
  const { router, message, drain } = setup();
  const failure = new Error('handler failed');
  const closes: (Error | undefined)[] = [];
  let calls = 0;
  router.subscribe('s', 'a', {
    onMessage: () => {
      calls++;
      throw failure;
    },
    onClosed: (error) => closes.push(error),
  });
  const healthy = recorder();
  router.subscribe('s', 'a', healthy.options);
  router.publish(message('a', '1'), undefined);
  router.publish(message('a', '2'), undefined);
  drain();
  assert.equal(calls, 1);
  assert.deepEqual(closes, [failure]);
  assert.deepEqual(healthy.bodies, ['1', '2']);
  assert.equal(router.subscriptionCount, 1);
});

test('callbacks may publish and close re-entrantly', () => {
  const { router, message, drain } = setup();
  const replies = recorder();
  router.subscribe('client', 'reply', replies.options);
  const server = router.subscribe('server', 'request', {
    onMessage: (request) => {
      router.publish(message('reply', `re:${request.body.toString()}`), 'server');
      server.close();
    },
  });
  router.publish(message('request', 'ping'), 'client');
  router.publish(message('request', 'second'), 'client');
  drain();
  assert.deepEqual(replies.bodies, ['re:ping']);
});

test('expired messages are not routed, and are skipped if they expire while buffered', () => {
  const { clock, router, message, drain } = setup();
  const subscriber = recorder();
  router.subscribe('s', 'a', subscriber.options);
  assert.equal(router.publish(message('a', 'dead', { ttlMs: 0 }), undefined), 0);
  assert.equal(router.publish(message('a', 'soon', { ttlMs: 10 }), undefined), 1);
  assert.equal(router.publish(message('a', 'later', { ttlMs: 1000 }), undefined), 1);
  clock.advance(10);
  drain();
  assert.deepEqual(subscriber.bodies, ['later']);
  assert.equal(router.expiredCount, 2);
});

test('delayed messages are held on the clock and routed when due', () => {
  const { clock, router, message, drain } = setup();
  const early = recorder();
  router.subscribe('s', 'a', early.options);
  assert.equal(router.publish(message('a', 'delayed', { delayMs: 100 }), undefined), 0);
  assert.equal(router.publish(message('a', 'expires-first', { delayMs: 100, ttlMs: 50 }), undefined), 0);
  assert.equal(router.delayedCount, 2);
  const late = recorder();
  router.subscribe('s', 'a', late.options);
  drain();
  assert.deepEqual(early.bodies, []);
  clock.advance(99);
  drain();
  assert.deepEqual(early.bodies, []);
  clock.advance(1);
  drain();
  assert.deepEqual(early.bodies, ['delayed']);
  assert.deepEqual(late.bodies, ['delayed']);
  assert.equal(router.delayedCount, 0);
  assert.equal(router.expiredCount, 1);
});

test('subscribe validates its arguments and the per-session limit', () => {
  const { router } = setup();
  const onMessage = (): void => {};
  const isCode = (code: string) => (error: unknown) => isWeirError(error) && error.code === code;
  assert.throws(() => router.subscribe('s', 'a.>.b', { onMessage }), isCode(ErrorCode.InvalidSubject));
  assert.throws(() => router.subscribe('s', 'a', { onMessage, bufferMessagesMax: 0 }), /bufferMessagesMax/);
  assert.throws(
    () => router.subscribe('s', 'a', { onMessage, bufferMessagesMax: Limits.liveBufferMessagesMax + 1 }),
    isCode(ErrorCode.InvalidArgument),
  );
  assert.throws(
    () => router.subscribe('s', 'a', { onMessage, slowConsumerPolicy: 'block' as 'disconnect' }),
    /slowConsumerPolicy/,
  );
  assert.throws(() => router.subscribe('s', 'a', { onMessage, queueGroup: '' }), /queueGroup/);
  assert.equal(router.subscriptionCount, 0);
  for (let index = 0; index < Limits.liveSubscriptionsPerSessionMax; index++) {
    router.subscribe('s', `a.${index}`, { onMessage });
  }
  assert.throws(() => router.subscribe('s', 'a', { onMessage }), isCode(ErrorCode.LimitExceeded));
  router.subscribe('other', 'a', { onMessage });
  router.closeSession('s');
  assert.equal(router.subscriptionCount, 1);
});

test('close() closes every subscription and cancels delayed messages', () => {
  const { clock, router, message, drain } = setup();
  const subscriber = recorder();
  router.subscribe('s', 'a', subscriber.options);
  router.publish(message('a', 'held', { delayMs: 10 }), undefined);
  router.close();
  assert.equal(clock.pendingTimerCount(), 0);
  drain();
  assert.deepEqual(subscriber.closes, [undefined]);
  assert.throws(
    () => router.publish(message('a'), undefined),
    (error: unknown) => isWeirError(error, ErrorCode.Closed),
  );
});

test('the default scheduler delivers on a later turn of the event loop', async () => {
  const router = new LiveRouter({ clock: new ManualClock(), bufferMessagesMaxDefault: 10 });
  const received: string[] = [];
  router.subscribe('s', 'a', { onMessage: (message) => received.push(message.body.toString()) });
  router.publish(createMessage({ subject: 'a', body: 'hi' }, 0), undefined);
  assert.deepEqual(received, []);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(received, ['hi']);
});
