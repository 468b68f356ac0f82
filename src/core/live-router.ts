// Live (non-durable) subscriptions: the topic of DESIGN.md §1 without storage. At most
// once, nothing written to disk; the JMS default for topics, MQTT QoS 0 without a session,
// STOMP `/topic/…` with `ack:auto`.
//
// A published message is matched once through a SubjectTrie and handed to each matching
// subscription's bounded buffer; buffers are drained to `onMessage` asynchronously, in
// batches, on a later turn of the event loop (setImmediate by default). So a publisher
// looping synchronously never waits for subscribers, and never makes the broker hold more
// than `bufferMessagesMax` messages (and `Limits.liveBufferBytesMax` body bytes) per
// subscription. When a buffer is full the subscription's slow-consumer policy applies:
// - `drop_oldest`: the oldest buffered message is dropped and counted in `droppedCount`;
// - `disconnect`: the subscription is closed with WEIR_SLOW_CONSUMER.
//
// Callbacks (`onMessage`, `onClosed`) never run inside a router call: always on a later
// turn, so a callback may publish, subscribe or close without re-entering the router
// mid-route. `onClosed` runs exactly once per subscription: with undefined after `close()`
// or `closeSession()`, with the error when the router closed it (a slow consumer, or
// `onMessage` threw: the subscription is closed with that error, and the broker keeps
// running). Messages still buffered when a subscription closes are discarded (at most once).
//
// Queue groups: subscriptions with the same filter and `queueGroup` share messages, one
// member per message, round-robin; a member whose buffer is full is passed over while
// another has room. `noLocal` subscriptions skip messages their own session published.
//
// Time: a message whose `expiresAtMs` has passed is not routed, and is skipped if it expires
// while buffered (both counted in `expiredCount`). A message with a future `deliverAfterMs`
// is held on the clock and routed when due, to the subscriptions that exist then; at most
// `Limits.liveDelayedMessagesMax` are held, and `publish` throws WEIR_LIMIT_EXCEEDED past
// that, rather than growing or dropping silently.

import { assert } from '../common/assert.js';
import type { Clock, TimerHandle } from '../common/clock.js';
import { ErrorCode, InvalidArgumentError, WeirError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import { RingBuffer } from '../common/ring-buffer.js';
import type { LiveSubscribeOptions, LiveSubscription, Message, SlowConsumerPolicy } from './api.js';
import { validateFilter } from './subject.js';
import { SubjectTrie } from './subject-trie.js';

export interface LiveRouterOptions {
  readonly clock: Clock;
  /** Buffer size for subscriptions that do not choose one; at most Limits.liveBufferMessagesMax. */
  readonly bufferMessagesMaxDefault: number;
  /** Body bytes buffered per subscription; default and maximum Limits.liveBufferBytesMax. */
  readonly bufferBytesMax?: number;
  /** Runs the delivery turn later; default setImmediate. Tests may run turns by hand. */
  readonly schedule?: (callback: () => void) => void;
}

class RoutedSubscription implements LiveSubscription {
  readonly buffer = new RingBuffer<Message>();
  bufferedBytes = 0;
  dropped = 0;
  closed = false;
  /** In the router's ready list, waiting for a delivery turn. */
  ready = false;
  group: QueueGroup | undefined;

  constructor(
    readonly requestClose: (subscription: RoutedSubscription) => void,
    readonly sessionId: string,
    readonly filter: string,
    readonly options: LiveSubscribeOptions,
    readonly bufferMessagesMax: number,
    readonly policy: SlowConsumerPolicy,
  ) {}

  get droppedCount(): number {
    return this.dropped;
  }

  get isFull(): boolean {
    return this.buffer.length >= this.bufferMessagesMax;
  }

  close(): void {
    this.requestClose(this);
  }
}

class QueueGroup {
  readonly members: RoutedSubscription[] = [];
  nextIndex = 0;

  constructor(
    readonly key: string,
    readonly filter: string,
  ) {}
}

type Target = RoutedSubscription | QueueGroup;

export class LiveRouter {
  readonly #clock: Clock;
  readonly #bufferMessagesMaxDefault: number;
  readonly #bufferBytesMax: number;
  readonly #schedule: (callback: () => void) => void;
  readonly #trie = new SubjectTrie<Target>();
  readonly #groups = new Map<string, QueueGroup>();
  readonly #sessions = new Map<string, Set<RoutedSubscription>>();
  #subscriptionCount = 0;
  /** Subscriptions with buffered messages, waiting for the next delivery turn. */
  #ready: RoutedSubscription[] = [];
  /** Closed subscriptions whose onClosed has yet to run. */
  #closing: { subscription: RoutedSubscription; error: Error | undefined }[] = [];
  #turnScheduled = false;
  readonly #delayed = new Set<TimerHandle>();
  #expiredCount = 0;
  #closed = false;
  readonly #requestClose = (subscription: RoutedSubscription): void =>
    this.#closeSubscription(subscription, undefined);

  constructor(options: LiveRouterOptions) {
    assert(
      Number.isInteger(options.bufferMessagesMaxDefault) &&
        options.bufferMessagesMaxDefault >= 1 &&
        options.bufferMessagesMaxDefault <= Limits.liveBufferMessagesMax,
      'bufferMessagesMaxDefault within 1…Limits.liveBufferMessagesMax',
    );
    const bufferBytesMax = options.bufferBytesMax ?? Limits.liveBufferBytesMax;
    assert(
      bufferBytesMax >= 1 && bufferBytesMax <= Limits.liveBufferBytesMax,
      'bufferBytesMax within Limits',
    );
    this.#clock = options.clock;
    this.#bufferMessagesMaxDefault = options.bufferMessagesMaxDefault;
    this.#bufferBytesMax = bufferBytesMax;
    this.#schedule = options.schedule ?? ((callback) => setImmediate(callback));
  }

  get subscriptionCount(): number {
    return this.#subscriptionCount;
  }

  /** Messages not delivered because they expired before routing or while buffered. */
  get expiredCount(): number {
    return this.#expiredCount;
  }

  /** Delayed messages held until their deliver-after time. */
  get delayedCount(): number {
    return this.#delayed.size;
  }

  subscribe(sessionId: string, filter: string, options: LiveSubscribeOptions): LiveSubscription {
    if (this.#closed) throw new WeirError(ErrorCode.Closed, 'the live router is closed');
    validateFilter(filter);
    if (typeof options.onMessage !== 'function')
      throw new InvalidArgumentError('onMessage must be a function');
    const bufferMessagesMax = options.bufferMessagesMax ?? this.#bufferMessagesMaxDefault;
    if (
      !Number.isInteger(bufferMessagesMax) ||
      bufferMessagesMax < 1 ||
      bufferMessagesMax > Limits.liveBufferMessagesMax
    ) {
      throw new InvalidArgumentError(
        `bufferMessagesMax must be an integer from 1 to ${Limits.liveBufferMessagesMax} (liveBufferMessagesMax), got ${String(bufferMessagesMax)}`,
      );
    }
    const policy = options.slowConsumerPolicy ?? 'drop_oldest';
    if (policy !== 'drop_oldest' && policy !== 'disconnect') {
      throw new InvalidArgumentError(
        `slowConsumerPolicy must be drop_oldest or disconnect, got ${String(policy)}`,
      );
    }
    const group = options.queueGroup;
    if (group !== undefined && (typeof group !== 'string' || group.length === 0)) {
      throw new InvalidArgumentError('queueGroup must be a non-empty string');
    }
    let owned = this.#sessions.get(sessionId);
    if (owned !== undefined && owned.size >= Limits.liveSubscriptionsPerSessionMax) {
      throw new WeirError(
        ErrorCode.LimitExceeded,
        `session ${sessionId} already holds ${owned.size} live subscriptions (liveSubscriptionsPerSessionMax)`,
      );
    }

    const subscription = new RoutedSubscription(
      this.#requestClose,
      sessionId,
      filter,
      options,
      bufferMessagesMax,
      policy,
    );
    if (group === undefined) {
      this.#trie.add(filter, subscription);
    } else {
      // A filter never contains a space, so this key cannot be ambiguous.
      const key = `${filter} ${group}`;
      let queueGroup = this.#groups.get(key);
      if (queueGroup === undefined) {
        queueGroup = new QueueGroup(key, filter);
        this.#groups.set(key, queueGroup);
        this.#trie.add(filter, queueGroup);
      }
      queueGroup.members.push(subscription);
      subscription.group = queueGroup;
    }
    if (owned === undefined) {
      owned = new Set();
      this.#sessions.set(sessionId, owned);
    }
    owned.add(subscription);
    this.#subscriptionCount++;
    return subscription;
  }

  /**
   * Hands `message` to every matching subscription's buffer; returns how many. A message
   * held for later (deliver-after) or already expired returns 0.
   */
  publish(message: Message, publisherSessionId: string | undefined): number {
    if (this.#closed) throw new WeirError(ErrorCode.Closed, 'the live router is closed');
    // The common case of a stream's publish with nobody subscribed live: nothing to count,
    // hold or route, so neither the clock nor the trie is asked.
    if (
      this.#subscriptionCount === 0 &&
      message.expiresAtMs === undefined &&
      message.deliverAfterMs === undefined
    ) {
      return 0;
    }
    const nowMs = this.#clock.nowMs();
    if (message.expiresAtMs !== undefined && message.expiresAtMs <= nowMs) {
      this.#expiredCount++;
      return 0;
    }
    if (message.deliverAfterMs !== undefined && message.deliverAfterMs > nowMs) {
      this.#hold(message, publisherSessionId, message.deliverAfterMs - nowMs);
      return 0;
    }
    return this.#route(message, publisherSessionId);
  }

  /** Closes every live subscription of the session. */
  closeSession(sessionId: string): void {
    const owned = this.#sessions.get(sessionId);
    if (owned === undefined) return;
    for (const subscription of [...owned]) this.#closeSubscription(subscription, undefined);
  }

  /** Closes every subscription and drops held delayed messages. */
  close(): void {
    if (this.#closed) return;
    for (const sessionId of [...this.#sessions.keys()]) this.closeSession(sessionId);
    for (const timer of this.#delayed) timer.cancel();
    this.#delayed.clear();
    this.#closed = true;
  }

  /** Idempotent: a closed subscription stays closed and is notified once. */
  #closeSubscription(subscription: RoutedSubscription, error: Error | undefined): void {
    if (subscription.closed) return;
    subscription.closed = true;
    subscription.buffer.clear();
    subscription.bufferedBytes = 0;
    const group = subscription.group;
    if (group === undefined) {
      const removed = this.#trie.remove(subscription.filter, subscription);
      assert(removed, 'an open subscription is in the trie');
    } else {
      const index = group.members.indexOf(subscription);
      assert(index >= 0, 'an open group member is in its group');
      group.members.splice(index, 1);
      if (group.nextIndex > index) group.nextIndex--;
      if (group.members.length === 0) {
        this.#groups.delete(group.key);
        this.#trie.remove(group.filter, group);
      }
    }
    const owned = this.#sessions.get(subscription.sessionId);
    assert(owned?.delete(subscription) === true, 'an open subscription is owned by its session');
    if (owned.size === 0) this.#sessions.delete(subscription.sessionId);
    this.#subscriptionCount--;
    this.#closing.push({ subscription, error });
    this.#scheduleTurn();
  }

  #hold(message: Message, publisherSessionId: string | undefined, delayMs: number): void {
    if (this.#delayed.size >= Limits.liveDelayedMessagesMax) {
      throw new WeirError(
        ErrorCode.LimitExceeded,
        `${this.#delayed.size} delayed messages for live subscriptions are already held (liveDelayedMessagesMax)`,
      );
    }
    const timer = this.#clock.setTimeout(() => {
      this.#delayed.delete(timer);
      if (this.#closed) return;
      if (message.expiresAtMs !== undefined && message.expiresAtMs <= this.#clock.nowMs()) {
        this.#expiredCount++;
        return;
      }
      this.#route(message, publisherSessionId);
    }, delayMs);
    this.#delayed.add(timer);
  }

  #route(message: Message, publisherSessionId: string | undefined): number {
    const targets = this.#trie.match(message.subject);
    let handed = 0;
    for (const target of targets) {
      if (target instanceof QueueGroup) {
        const member = pickMember(target, publisherSessionId);
        if (member !== undefined) handed += this.#enqueue(member, message);
      } else if (!(target.options.noLocal === true && target.sessionId === publisherSessionId)) {
        handed += this.#enqueue(target, message);
      }
    }
    return handed;
  }

  /** Buffers the message for the subscription; 1 if it was taken, 0 if the subscription closed. */
  #enqueue(subscription: RoutedSubscription, message: Message): number {
    const bytes = message.body.length;
    const buffer = subscription.buffer;
    if (this.#overflows(subscription, bytes)) {
      if (subscription.policy === 'disconnect') {
        this.#closeSubscription(
          subscription,
          new WeirError(
            ErrorCode.SlowConsumer,
            `live subscription on ${JSON.stringify(subscription.filter)} fell behind: ${buffer.length} messages ` +
              `(${subscription.bufferedBytes} bytes) buffered, bufferMessagesMax ${subscription.bufferMessagesMax}; disconnected`,
          ),
        );
        return 0;
      }
      do {
        const oldest = buffer.shift();
        assert(oldest !== undefined, 'an overflowing buffer is not empty');
        subscription.bufferedBytes -= oldest.body.length;
        subscription.dropped++;
      } while (this.#overflows(subscription, bytes));
    }
    buffer.push(message);
    subscription.bufferedBytes += bytes;
    if (!subscription.ready) {
      subscription.ready = true;
      this.#ready.push(subscription);
      this.#scheduleTurn();
    }
    return 1;
  }

  /** Whether taking `bytes` more would exceed the subscription's message or byte bound. */
  #overflows(subscription: RoutedSubscription, bytes: number): boolean {
    const length = subscription.buffer.length;
    return (
      length >= subscription.bufferMessagesMax ||
      (length > 0 && subscription.bufferedBytes + bytes > this.#bufferBytesMax)
    );
  }

  #scheduleTurn(): void {
    if (this.#turnScheduled) return;
    this.#turnScheduled = true;
    this.#schedule(() => this.#deliveryTurn());
  }

  /**
   * One delivery turn: ready subscriptions take turns, up to liveDeliveryBatchMessagesMax
   * messages each, until every buffer is empty or the turn has delivered
   * liveDeliveryTurnMessagesMax; what is left waits for the next turn. So one busy
   * subscription cannot starve the others, and delivery cannot starve the event loop's I/O.
   * Then pending onClosed callbacks run.
   */
  #deliveryTurn(): void {
    this.#turnScheduled = false;
    let deliveredInTurn = 0;
    while (this.#ready.length > 0 && deliveredInTurn < Limits.liveDeliveryTurnMessagesMax) {
      const ready = this.#ready;
      this.#ready = [];
      const nowMs = this.#clock.nowMs();
      for (const subscription of ready) {
        subscription.ready = false;
        let delivered = 0;
        while (!subscription.closed && delivered < Limits.liveDeliveryBatchMessagesMax) {
          const message = subscription.buffer.shift();
          if (message === undefined) break;
          subscription.bufferedBytes -= message.body.length;
          delivered++;
          if (message.expiresAtMs !== undefined && message.expiresAtMs <= nowMs) {
            this.#expiredCount++;
            continue;
          }
          try {
            subscription.options.onMessage(message);
          } catch (error) {
            this.#closeSubscription(subscription, error instanceof Error ? error : new Error(String(error)));
          }
        }
        deliveredInTurn += delivered;
        if (!subscription.closed && subscription.buffer.length > 0 && !subscription.ready) {
          subscription.ready = true;
          this.#ready.push(subscription);
        }
      }
    }
    const closing = this.#closing;
    this.#closing = [];
    for (const { subscription, error } of closing) subscription.options.onClosed?.(error);
    if (this.#ready.length > 0 || this.#closing.length > 0) this.#scheduleTurn();
  }
}

/**
 * The next member in round-robin order that may take the message: not the publisher's own
 * session when it asked for noLocal, and with room in its buffer if any member has room.
 */
function pickMember(
  group: QueueGroup,
  publisherSessionId: string | undefined,
): RoutedSubscription | undefined {
  const members = group.members;
  let fallback: number | undefined;
  for (let step = 0; step < members.length; step++) {
    const index = (group.nextIndex + step) % members.length;
    const member = members[index]!;
    if (member.options.noLocal === true && member.sessionId === publisherSessionId) continue;
    if (!member.isFull) {
      group.nextIndex = (index + 1) % members.length;
      return member;
    }
    fallback ??= index;
  }
  if (fallback === undefined) return undefined;
  group.nextIndex = (fallback + 1) % members.length;
  return members[fallback];
}
