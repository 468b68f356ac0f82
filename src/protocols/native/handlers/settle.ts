// Shared by ACK, NACK and TERM: find each entry's delivery, apply the core operation, and
// answer OK or the first error (entries after a failing one are still applied).

import { ErrorCode, WeirError } from '../../../common/errors.js';
import type { Delivery } from '../../../core/api.js';
import type { AckEntry } from '../codec/index.js';
import type { NativeSession } from '../session.js';

export function settleEntries<Entry extends AckEntry>(
  session: NativeSession,
  requestId: number,
  stream: string,
  consumer: string,
  entries: readonly Entry[],
  apply: (delivery: Delivery, entry: Entry) => void,
): void {
  let firstError: unknown;
  for (const entry of entries) {
    const delivery = session.deliveries.take(stream, consumer, entry);
    if (delivery === undefined) {
      firstError ??= new WeirError(
        ErrorCode.StaleAck,
        `this connection holds no delivery ${entry.deliveryCount} of ${stream}/${consumer} partition ${entry.partition} offset ${entry.offset}`,
      );
      continue;
    }
    try {
      apply(delivery, entry);
    } catch (error) {
      firstError ??= error;
    }
  }
  if (firstError !== undefined) session.replyError(requestId, firstError);
  else session.ok(requestId);
}
