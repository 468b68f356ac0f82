// COMMIT (STOMP 1.2: "COMMIT").
//
// The SENDs to subjects a stream captures and the ACKs of the transaction are one core
// transaction: all of them are applied or none, also across a broker crash (the core writes
// the transaction to its log before applying it). The RECEIPT of a COMMIT comes once it is
// committed and durable. A commit the core refuses (a delivery acked in it was redelivered
// meanwhile: WEIR_TRANSACTION_ABORTED) is an ERROR.
//
// Two kinds of frame are not part of the core transaction and are applied after it commits:
// SENDs that only live subscribers take (nothing durable to commit; they stay invisible until
// COMMIT) and NACKs (the core transaction has none; a NACK lost in a crash has the same effect
// as one applied, since an unacked message is redelivered).
import { header, type StompFrame } from '../codec/index.js';
import { missingHeader } from '../errors.js';
import type { StompConnection } from '../session.js';
import { takeTransaction } from './transaction.js';

export function handleCommit(connection: StompConnection, frame: StompFrame): void {
  const id = header(frame, 'transaction');
  if (id === undefined) throw missingHeader('COMMIT', 'transaction');
  const transaction = takeTransaction(connection, id);
  const session = connection.session;
  const committed = transaction.core.commit().then(() => {
    for (const input of transaction.live) session.publish(input);
    for (const entry of transaction.nacks)
      session.nack(entry.delivery, { reason: 'NACK from a STOMP client' });
  });
  connection.trackConfirm(committed, frame);
}
