// ABORT (STOMP 1.2: "ABORT"): drops the buffered SENDs, ACKs and NACKs. Nothing of the
// transaction reached the core, so there is nothing to undo; deliveries whose ACK was
// dropped stay unacked.
import { header, type StompFrame } from '../codec/index.js';
import { missingHeader } from '../errors.js';
import type { StompConnection } from '../session.js';
import { takeTransaction } from './transaction.js';

export function handleAbort(connection: StompConnection, frame: StompFrame): void {
  const id = header(frame, 'transaction');
  if (id === undefined) throw missingHeader('ABORT', 'transaction');
  takeTransaction(connection, id);
}
