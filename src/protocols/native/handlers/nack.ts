// NACK: redeliver, optionally after a delay, keeping the reason for dead-letter headers.

import type { NackFrame } from '../codec/index.js';
import type { NativeSession } from '../session.js';
import { settleEntries } from './settle.js';

export function handleNack(session: NativeSession, frame: NackFrame): void {
  const core = session.core;
  settleEntries(session, frame.requestId, frame.stream, frame.consumer, frame.entries, (delivery, entry) =>
    core.nack(delivery, {
      ...(entry.delayMs !== undefined ? { delayMs: entry.delayMs } : {}),
      ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
    }),
  );
}
