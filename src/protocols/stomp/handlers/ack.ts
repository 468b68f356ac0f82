// ACK (STOMP 1.2: "ACK"): settles a client or client-individual delivery; inside a
// transaction it is held until COMMIT.
import { header, type StompFrame } from '../codec/index.js';
import type { StompConnection } from '../session.js';
import { ackIdOf, checkAckId, settle } from './acknowledge.js';
import { addToTransaction } from './transaction.js';

export function handleAck(connection: StompConnection, frame: StompFrame): void {
  const ackId = ackIdOf(connection, frame);
  const transaction = header(frame, 'transaction');
  if (transaction !== undefined) {
    checkAckId(connection, ackId);
    addToTransaction(connection, transaction, { kind: 'ack', ackId }, ackId.length);
    return;
  }
  settle(connection, ackId, 'ack');
}
