// PING: answered at once with PONG carrying the same request id.

import type { PingFrame } from '../codec/index.js';
import type { NativeSession } from '../session.js';

export function handlePing(session: NativeSession, frame: PingFrame): void {
  session.send({ kind: 'pong', requestId: frame.requestId });
}
