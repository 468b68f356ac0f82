// ACK: a batch of acknowledgements for one consumer.

import type { AckFrame } from '../codec/index.js';
import type { NativeSession } from '../session.js';
import { AckReference } from '../mapping.js';
import { settleEntries } from './settle.js';

export function handleAck(session: NativeSession, frame: AckFrame): void {
  const core = session.core;
  const options = frame.cumulative ? { cumulative: true } : undefined;
  const reference = new AckReference(frame.stream, frame.consumer);
  settleEntries(
    session,
    frame.requestId,
    frame.stream,
    frame.consumer,
    frame.entries,
    (delivery) => core.ack(delivery, options),
    (entry) => reference.pointAt(entry),
  );
}
