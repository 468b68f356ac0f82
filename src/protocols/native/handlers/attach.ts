// ATTACH: push delivery from a consumer to this connection, under a client-chosen
// subscription id, with the client's credit (capped at NativeLimits.creditMax).

import { ErrorCode, WeirError } from '../../../common/errors.js';
import { NativeLimits } from '../../../common/limits.js';
import type { AttachFrame } from '../codec/index.js';
import type { NativeSession, PushSubscription } from '../session.js';

export function handleAttach(session: NativeSession, frame: AttachFrame): void {
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
  const subscription: PushSubscription = {
    kind: 'push',
    id: frame.subscriptionId,
    stream: frame.stream,
    consumer: frame.consumer,
    attachment: undefined,
    pending: [],
    outstandingCredit: 0,
    heldCredit: 0,
  };
  // Credit starts at 0 and is granted below, so it is held back if the socket is not draining.
  subscription.attachment = session.core.attach(frame.stream, frame.consumer, {
    credit: 0,
    creditOnAck: frame.creditOnAck,
    onDelivery: (delivery) => session.deliver(subscription, delivery),
    onClosed: (error) => session.closeSubscription(subscription, error),
  });
  session.subscriptions.set(subscription.id, subscription);
  session.ok(frame.requestId);
  if (frame.credit > 0) session.grantCredit(subscription, frame.credit);
}
