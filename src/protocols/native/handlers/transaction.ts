// TRANSACTION_COMMIT: a transaction the client gathered (publishes and acks), run as one
// core transaction: every publish buffered, every ack recorded, then committed. Answered
// PUBLISH_ACK with where each message was stored, or ERROR with nothing applied (the core
// aborts, which returns acked deliveries to their consumers).

import type { Transaction } from '../../../core/api.js';
import type { PublishResult, TransactionFrame } from '../codec/index.js';
import { deliveryReference, publishInputOf } from '../mapping.js';
import type { NativeSession } from '../session.js';

export function handleTransaction(session: NativeSession, frame: TransactionFrame): void {
  const transaction: Transaction = session.core.beginTransaction(
    frame.timeoutMs > 0 ? { timeoutMs: frame.timeoutMs } : undefined,
  );
  try {
    for (const message of frame.messages) transaction.publish(publishInputOf(message));
    for (const ack of frame.acks) transaction.ack(deliveryReference(ack.stream, ack.consumer, ack));
  } catch (error) {
    transaction.abort().then(
      () => session.replyError(frame.requestId, error),
      () => session.replyError(frame.requestId, error),
    );
    return;
  }
  transaction.commit().then(
    (acks) => {
      const results: PublishResult[] = acks.map((ack) => ({
        ok: true,
        stream: ack.stream,
        partition: ack.partition,
        offset: ack.offset,
        duplicate: ack.duplicate,
      }));
      session.send({ kind: 'publishAck', requestId: frame.requestId, results });
    },
    (error: unknown) => session.replyError(frame.requestId, error),
  );
}
