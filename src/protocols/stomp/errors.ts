// WeirError codes → the `message` header of a STOMP ERROR frame (STOMP 1.2: ERROR). The
// body carries the full explanation; the header is short and stable so clients can match it.
import { ErrorCode, WeirError } from '../../common/errors.js';

// Partial, so a code added elsewhere falls back to "error" instead of breaking the build.
const messageByCode: Readonly<Partial<Record<ErrorCode, string>>> = {
  [ErrorCode.InvalidArgument]: 'invalid header',
  [ErrorCode.FrameTooLarge]: 'frame too large',
  [ErrorCode.BatchTooLarge]: 'frame too large',
  [ErrorCode.RecordTooLarge]: 'message too large',
  [ErrorCode.MessageTooLarge]: 'message too large',
  [ErrorCode.CorruptLog]: 'internal error',
  [ErrorCode.LogClosed]: 'server shutting down',
  [ErrorCode.OffsetOutOfRange]: 'internal error',
  [ErrorCode.InvalidSubject]: 'invalid destination',
  [ErrorCode.StreamNotFound]: 'unknown destination',
  [ErrorCode.StreamExists]: 'destination exists',
  [ErrorCode.DestinationConflict]: 'destination conflict',
  [ErrorCode.ConsumerNotFound]: 'unknown subscription',
  [ErrorCode.ConsumerExists]: 'subscription exists',
  [ErrorCode.ConsumerBusy]: 'subscription busy',
  [ErrorCode.StorageFailed]: 'internal error',
  [ErrorCode.NoStream]: 'unknown destination',
  [ErrorCode.StreamFull]: 'destination full',
  [ErrorCode.StaleAck]: 'stale acknowledgement',
  [ErrorCode.NotSupported]: 'not supported',
  [ErrorCode.LimitExceeded]: 'limit exceeded',
  [ErrorCode.Closed]: 'connection closed',
  [ErrorCode.Timeout]: 'timeout',
  [ErrorCode.NoResponders]: 'no responders',
  [ErrorCode.NotAuthorized]: 'access refused',
  [ErrorCode.AuthenticationFailed]: 'authentication failed',
  [ErrorCode.ProtocolError]: 'malformed frame',
  [ErrorCode.ProducerFenced]: 'producer fenced',
  [ErrorCode.TransactionNotFound]: 'unknown transaction',
  [ErrorCode.TransactionAborted]: 'transaction aborted',
  [ErrorCode.SlowConsumer]: 'slow consumer',
  [ErrorCode.InvalidSelector]: 'invalid selector',
  [ErrorCode.Overloaded]: 'server overloaded',
};

export function errorMessageHeader(error: unknown): string {
  if (error instanceof WeirError) return messageByCode[error.code] ?? 'error';
  return 'internal error';
}

/** A protocol violation by the client: missing header, wrong state, unknown id. */
export class StompProtocolError extends WeirError {
  constructor(message: string, code: ErrorCode = ErrorCode.ProtocolError) {
    super(code, message);
    this.name = 'StompProtocolError';
  }
}

export function missingHeader(command: string, name: string): StompProtocolError {
  return new StompProtocolError(`${command} frame is missing the required '${name}' header`);
}

export function notSupported(what: string): StompProtocolError {
  return new StompProtocolError(`${what} is not supported yet`, ErrorCode.NotSupported);
}
