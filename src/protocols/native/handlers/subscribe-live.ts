// SUBSCRIBE_LIVE: a non-durable subscription on a subject filter (at-most-once). While the
// socket does not drain, messages wait in a bounded buffer under the slow-consumer policy.

import { ErrorCode, WeirError } from '../../../common/errors.js';
import { Limits, NativeLimits } from '../../../common/limits.js';
import { RingBuffer } from '../../../common/ring-buffer.js';
import type { Message } from '../../../core/api.js';
import type { SubscribeLiveFrame } from '../codec/index.js';
import type { LiveSubscriptionState, NativeSession } from '../session.js';

export function handleSubscribeLive(session: NativeSession, frame: SubscribeLiveFrame): void {
  if (session.subscriptions.has(frame.subscriptionId)) {
    throw new WeirError(
      ErrorCode.InvalidArgument,
      `subscription id ${frame.subscriptionId} is already in use`,
    );
  }
  if (session.subscriptions.size >= NativeLimits.subscriptionsMax) {
    throw new WeirError(
      ErrorCode.LimitExceeded,
      `a connection may hold at most ${NativeLimits.subscriptionsMax} subscriptions`,
    );
  }
  // The client's request is honoured up to the core's own bound (it was once capped at the
  // default, so a subscriber asking for 100,000 got 10,000 and lost the rest of a burst).
  const bufferMessagesMax = Math.max(
    1,
    Math.min(frame.bufferMessagesMax ?? NativeLimits.liveBufferMessagesDefault, Limits.liveBufferMessagesMax),
  );
  const subscription: LiveSubscriptionState = {
    kind: 'live',
    id: frame.subscriptionId,
    subscription: undefined,
    pending: new RingBuffer<Message>(),
    bufferMessagesMax,
    slowConsumerPolicy: frame.slowConsumerPolicy ?? 'drop_oldest',
    droppedCount: 0,
    droppedReported: 0,
  };
  subscription.subscription = session.core.subscribeLive(frame.filter, {
    bufferMessagesMax,
    slowConsumerPolicy: subscription.slowConsumerPolicy,
    noLocal: frame.noLocal,
    ...(frame.queueGroup !== undefined ? { queueGroup: frame.queueGroup } : {}),
    onMessage: (message) => session.deliverLive(subscription, message),
    onClosed: (error) => session.closeSubscription(subscription, error),
  });
  session.subscriptions.set(subscription.id, subscription);
  session.ok(frame.requestId);
}
