// Shared by ACK, NACK and TERM: apply the core operation to each entry in order, then
// answer SETTLE_RESULT with each outcome (when a request id asks for it) or the first error
// (always: a failure is never silent). Entries after a failing one are still applied.

import type { AckOutcome, Delivery } from '../../../core/api.js';
import type { AckEntry, SettleOutcome } from '../codec/index.js';
import { deliveryReference } from '../mapping.js';
import type { NativeSession } from '../session.js';

export function settleEntries<Entry extends AckEntry>(
  session: NativeSession,
  requestId: number,
  stream: string,
  consumer: string,
  entries: readonly Entry[],
  apply: (delivery: Delivery, entry: Entry) => AckOutcome,
  referenceOf: (entry: Entry) => Delivery = (entry) => deliveryReference(stream, consumer, entry),
): void {
  let firstError: unknown;
  const outcomes: SettleOutcome[] = [];
  for (const entry of entries) {
    try {
      outcomes.push(apply(referenceOf(entry), entry));
    } catch (error) {
      firstError ??= error;
      outcomes.push('stale');
    }
  }
  if (firstError !== undefined) session.replyError(requestId, firstError);
  else if (requestId !== 0) session.send({ kind: 'settleResult', requestId, outcomes });
}
