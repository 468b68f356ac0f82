// TERM: reject for good; the core dead-letters the message with reason `rejected`.

import type { TermFrame } from '../codec/index.js';
import type { NativeSession } from '../session.js';
import { settleEntries } from './settle.js';

export function handleTerm(session: NativeSession, frame: TermFrame): void {
  const core = session.core;
  settleEntries(session, frame.requestId, frame.stream, frame.consumer, frame.entries, (delivery, entry) =>
    core.term(delivery, entry.reason),
  );
}
