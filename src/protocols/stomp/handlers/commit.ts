// COMMIT (STOMP 1.2: "COMMIT").
//
// What a transaction guarantees: its SENDs, ACKs and NACKs are held by this connection
// (bounded by StompLimits.transactionFramesMax and transactionBytesMax) and reach the core
// only at COMMIT, in order, with no other frame of this connection in between; ABORT, or
// the connection going away, drops them, so an uncommitted transaction has no effect at all.
// The RECEIPT of a COMMIT comes once every SEND in it is durable.
//
// What it does not guarantee yet: the core has no transactions, so a COMMIT is applied as
// a sequence of publishes and acks. If the broker crashes in the middle of applying one, a
// prefix of its SENDs may be stored and a prefix of its ACKs applied. A client that got the
// RECEIPT knows all of it is durable; one that did not must treat the outcome as unknown.
import { header, type StompFrame } from '../codec/index.js';
import { missingHeader } from '../errors.js';
import type { StompConnection } from '../session.js';
import { checkAckId, settle } from './acknowledge.js';
import { takeTransaction } from './transaction.js';

export function handleCommit(connection: StompConnection, frame: StompFrame): void {
  const id = header(frame, 'transaction');
  if (id === undefined) throw missingHeader('COMMIT', 'transaction');
  const transaction = takeTransaction(connection, id);
  // Check every ack first, so a transaction that cannot apply whole applies nothing.
  for (const step of transaction.steps) if (step.kind !== 'send') checkAckId(connection, step.ackId);
  const confirms: Promise<unknown>[] = [];
  // A cumulative (ack:client) ACK earlier in the transaction may already cover a later one.
  const settled = new Set<string>();
  for (const step of transaction.steps) {
    if (step.kind === 'send') confirms.push(step.run());
    else if (!settled.has(step.ackId)) {
      for (const ackId of settle(connection, step.ackId, step.kind)) settled.add(ackId);
    }
  }
  if (confirms.length > 0) connection.trackConfirm(Promise.all(confirms), frame);
}
