// DISCONNECT (STOMP 1.2: "DISCONNECT"): the RECEIPT comes once everything before it is done
// (receipted SENDs durable included); then the server closes the connection.
import { header, type StompFrame } from '../codec/index.js';
import type { StompConnection } from '../session.js';

export async function handleDisconnect(connection: StompConnection, frame: StompFrame): Promise<void> {
  const receipt = header(frame, 'receipt');
  await connection.confirmsSettled();
  if (connection.state !== 'connected') return;
  if (receipt !== undefined) connection.sendReceipt(receipt);
  connection.end();
}
