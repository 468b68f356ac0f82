// ACK (STOMP 1.2: "ACK"): settles a client or client-individual delivery; inside a
// transaction the core applies it at COMMIT.
import { header, type StompFrame } from '../codec/index.js';
import type { StompConnection } from '../session.js';
import { ackIdOf, settle, takeForTransaction } from './acknowledge.js';
import { openTransaction } from './transaction.js';

export function handleAck(connection: StompConnection, frame: StompFrame): void {
  const ackId = ackIdOf(connection, frame);
  const id = header(frame, 'transaction');
  if (id !== undefined) {
    const transaction = openTransaction(connection, id);
    for (const entry of takeForTransaction(connection, ackId)) transaction.core.ack(entry.delivery);
    return;
  }
  settle(connection, ackId, 'ack');
}
