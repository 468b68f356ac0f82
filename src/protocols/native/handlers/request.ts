// REQUEST: request-reply through the core. The core publishes the message with a reply
// subject in this session's inbox and resolves with the first reply, which goes back as
// RESPONSE; WEIR_NO_RESPONDERS and WEIR_TIMEOUT come back as ERROR.

import type { RequestFrame } from '../codec/index.js';
import type { NativeSession } from '../session.js';

export function handleRequest(session: NativeSession, frame: RequestFrame): void {
  const { subject, body, replyTo: _replyTo, ...options } = frame.message;
  session.core.request(subject, body, { ...options, timeoutMs: frame.timeoutMs }).then(
    (message) => session.send({ kind: 'response', requestId: frame.requestId, message }),
    (error: unknown) => session.replyError(frame.requestId, error),
  );
}
