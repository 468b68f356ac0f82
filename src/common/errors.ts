// Operating errors: every error the broker reports to a user is a WeirError with a stable
// code. Protocol adapters map codes to their own terms in one table each (MQTT reason code,
// STOMP ERROR header, AMQP reply code, HTTP status). Programmer errors are assertions
// (see assert.ts) and are never caught.

export const ErrorCode = {
  InvalidArgument: 'WEIR_INVALID_ARGUMENT',
  FrameTooLarge: 'WEIR_FRAME_TOO_LARGE',
  BatchTooLarge: 'WEIR_BATCH_TOO_LARGE',
  RecordTooLarge: 'WEIR_RECORD_TOO_LARGE',
  MessageTooLarge: 'WEIR_MESSAGE_TOO_LARGE',
  CorruptLog: 'WEIR_CORRUPT_LOG',
  LogClosed: 'WEIR_LOG_CLOSED',
  /** A write or fsync failed; the log refuses further appends until reopened. */
  StorageFailed: 'WEIR_STORAGE_FAILED',
  DataDirectoryLocked: 'WEIR_DATA_DIRECTORY_LOCKED',
  OffsetOutOfRange: 'WEIR_OFFSET_OUT_OF_RANGE',
  InvalidSubject: 'WEIR_INVALID_SUBJECT',
  StreamNotFound: 'WEIR_STREAM_NOT_FOUND',
  StreamExists: 'WEIR_STREAM_EXISTS',
  /** A queue and a topic (or two streams) would capture the same subjects. */
  DestinationConflict: 'WEIR_DESTINATION_CONFLICT',
  ConsumerNotFound: 'WEIR_CONSUMER_NOT_FOUND',
  ConsumerExists: 'WEIR_CONSUMER_EXISTS',
  ConsumerBusy: 'WEIR_CONSUMER_BUSY',
  NoStream: 'WEIR_NO_STREAM',
  StreamFull: 'WEIR_STREAM_FULL',
  StaleAck: 'WEIR_STALE_ACK',
  NotSupported: 'WEIR_NOT_SUPPORTED',
  LimitExceeded: 'WEIR_LIMIT_EXCEEDED',
  Closed: 'WEIR_CLOSED',
  Timeout: 'WEIR_TIMEOUT',
  NoResponders: 'WEIR_NO_RESPONDERS',
  NotAuthorized: 'WEIR_NOT_AUTHORIZED',
  AuthenticationFailed: 'WEIR_AUTHENTICATION_FAILED',
  ProtocolError: 'WEIR_PROTOCOL_ERROR',
  ProducerFenced: 'WEIR_PRODUCER_FENCED',
  TransactionNotFound: 'WEIR_TRANSACTION_NOT_FOUND',
  TransactionAborted: 'WEIR_TRANSACTION_ABORTED',
  /** A message selector that does not parse; the message gives the column. */
  InvalidSelector: 'WEIR_INVALID_SELECTOR',
  SlowConsumer: 'WEIR_SLOW_CONSUMER',
  Overloaded: 'WEIR_OVERLOADED',
  /** A listener could not bind its address (in use, not permitted, not local). */
  ListenFailed: 'WEIR_LISTEN_FAILED',
  /** An HTTP path or resource that does not exist. */
  NotFound: 'WEIR_NOT_FOUND',
  /** An unexpected failure inside the broker (an I/O error, say); the message says what. */
  Internal: 'WEIR_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class WeirError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WeirError';
    this.code = code;
  }
}

export class InvalidArgumentError extends WeirError {
  constructor(message: string) {
    super(ErrorCode.InvalidArgument, message);
    this.name = 'InvalidArgumentError';
  }
}

export class CorruptLogError extends WeirError {
  readonly file: string;
  readonly position: number;

  constructor(file: string, position: number, reason: string) {
    super(ErrorCode.CorruptLog, `corrupt log ${file} at byte ${position}: ${reason}`);
    this.name = 'CorruptLogError';
    this.file = file;
    this.position = position;
  }
}

export function isWeirError(error: unknown, code?: ErrorCode): error is WeirError {
  return error instanceof WeirError && (code === undefined || error.code === code);
}
