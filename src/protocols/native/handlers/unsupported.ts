// Frame types this broker does not implement: reserved ones (transaction begin and abort: a
// transaction travels whole in TRANSACTION_COMMIT) and unknown ones from a newer client. Answered with
// WEIR_NOT_SUPPORTED; the connection stays open.

import { ErrorCode, WeirError } from '../../../common/errors.js';
import type { UnsupportedFrame } from '../codec/index.js';
import { FrameType } from '../codec/index.js';
import type { NativeSession } from '../session.js';

const reservedNames = new Map<number, string>([
  [FrameType.transactionBegin, 'transaction begin'],
  [FrameType.transactionAbort, 'transaction abort'],
]);

export function handleUnsupported(session: NativeSession, frame: UnsupportedFrame): void {
  const hex = `0x${frame.type.toString(16).padStart(2, '0')}`;
  const name = reservedNames.get(frame.type);
  const message =
    name === undefined
      ? `frame type ${hex} is unknown to this broker`
      : `frame type ${hex} (${name}) is not supported by this broker yet`;
  session.replyError(frame.requestId, new WeirError(ErrorCode.NotSupported, message));
}
