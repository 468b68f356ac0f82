// Stream and consumer administration and dead-letter redrive (frame types 0x30–0x3a, JSON
// bodies), answered with ADMIN_RESULT.

import { ErrorCode, WeirError } from '../../../common/errors.js';
import type { AdminFrame } from '../codec/index.js';
import type { NativeSession } from '../session.js';

export function handleAdmin(session: NativeSession, frame: AdminFrame): void {
  session.replyError(
    frame.requestId,
    new WeirError(ErrorCode.NotSupported, `${frame.operation} is not available on this broker`),
  );
}
