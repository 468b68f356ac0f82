// Typed errors of the pure codec. The session turns each into an ERROR frame whose
// `message` header is `message` (STOMP 1.2: ERROR).
import { ErrorCode, WeirError } from '../../../common/errors.js';

export class StompFrameError extends WeirError {
  constructor(code: typeof ErrorCode.ProtocolError | typeof ErrorCode.FrameTooLarge, message: string) {
    super(code, message);
    this.name = 'StompFrameError';
  }
}

export function malformed(message: string): StompFrameError {
  return new StompFrameError(ErrorCode.ProtocolError, message);
}

export function tooLarge(message: string): StompFrameError {
  return new StompFrameError(ErrorCode.FrameTooLarge, message);
}
