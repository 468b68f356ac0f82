// CREDIT: the client can take more deliveries on a push subscription. Held back while the
// socket is not draining (see session.ts).

import { ErrorCode, WeirError } from '../../../common/errors.js';
import type { CreditFrame } from '../codec/index.js';
import type { NativeSession } from '../session.js';

export function handleCredit(session: NativeSession, frame: CreditFrame): void {
  const subscription = session.subscriptions.get(frame.subscriptionId);
  // A grant racing a broker-side close is harmless: ignore it.
  if (subscription === undefined) return;
  if (subscription.kind !== 'push') {
    throw new WeirError(
      ErrorCode.InvalidArgument,
      `subscription ${frame.subscriptionId} is live; it takes no credit`,
    );
  }
  session.grantCredit(subscription, frame.credit);
}
