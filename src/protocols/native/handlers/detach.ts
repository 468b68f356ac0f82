// DETACH: the client ends a push or live subscription; unacked deliveries of a push
// subscription are redelivered by the core.

import { ErrorCode, WeirError } from '../../../common/errors.js';
import type { DetachFrame } from '../codec/index.js';
import type { NativeSession } from '../session.js';

export function handleDetach(session: NativeSession, frame: DetachFrame): void {
  const subscription = session.subscriptions.get(frame.subscriptionId);
  if (subscription === undefined) {
    throw new WeirError(
      ErrorCode.InvalidArgument,
      `no subscription ${frame.subscriptionId} on this connection`,
    );
  }
  session.removeSubscription(subscription);
  if (subscription.kind === 'push') subscription.attachment?.close();
  else subscription.subscription?.close();
  session.ok(frame.requestId);
}
