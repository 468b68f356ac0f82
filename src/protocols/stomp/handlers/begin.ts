// BEGIN (STOMP 1.2: "BEGIN"): a core transaction; see commit.ts for what COMMIT guarantees.
import { StompLimits } from '../../../common/limits.js';
import { ErrorCode } from '../../../common/errors.js';
import { header, type StompFrame } from '../codec/index.js';
import { missingHeader, StompProtocolError } from '../errors.js';
import type { StompConnection } from '../session.js';

export function handleBegin(connection: StompConnection, frame: StompFrame): void {
  const id = header(frame, 'transaction');
  if (id === undefined) throw missingHeader('BEGIN', 'transaction');
  if (connection.transactions.has(id)) throw new StompProtocolError(`transaction '${id}' is already open`);
  if (connection.transactions.size >= StompLimits.transactionsMax) {
    throw new StompProtocolError(
      `a connection may have at most ${StompLimits.transactionsMax} open transactions`,
      ErrorCode.LimitExceeded,
    );
  }
  connection.transactions.set(id, {
    core: connection.session.beginTransaction(),
    live: [],
    nacks: [],
    frames: 0,
    bytes: 0,
  });
}
