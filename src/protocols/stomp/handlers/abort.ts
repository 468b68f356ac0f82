// ABORT (STOMP 1.2: "ABORT"): the core transaction drops its messages and returns the
// deliveries it acked (they are redelivered); held live SENDs and NACKs are dropped.
import { header, type StompFrame } from '../codec/index.js';
import { missingHeader } from '../errors.js';
import type { StompConnection } from '../session.js';
import { takeTransaction } from './transaction.js';

export function handleAbort(connection: StompConnection, frame: StompFrame): Promise<void> {
  const id = header(frame, 'transaction');
  if (id === undefined) throw missingHeader('ABORT', 'transaction');
  return takeTransaction(connection, id).core.abort();
}
