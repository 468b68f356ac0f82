// The server's Logger (src/common/logger.ts) on top of pino: one JSON object per line, to
// stdout by default, with `time`, `level` (as a name), `msg` and the record's fields.

import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { LogFields, Logger, LogLevel } from '../common/logger.js';

class PinoAdapter implements Logger {
  readonly #pino: PinoLogger;

  constructor(logger: PinoLogger) {
    this.#pino = logger;
  }

  trace(message: string, fields?: LogFields): void {
    this.#pino.trace(fields ?? {}, message);
  }

  debug(message: string, fields?: LogFields): void {
    this.#pino.debug(fields ?? {}, message);
  }

  info(message: string, fields?: LogFields): void {
    this.#pino.info(fields ?? {}, message);
  }

  warn(message: string, fields?: LogFields): void {
    this.#pino.warn(fields ?? {}, message);
  }

  error(message: string, fields?: LogFields): void {
    this.#pino.error(fields ?? {}, message);
  }

  child(bindings: LogFields): Logger {
    return new PinoAdapter(this.#pino.child(bindings));
  }
}

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where records go; stdout when omitted. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const logger = pino(
    {
      level: options.level,
      base: { pid: process.pid },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
  return new PinoAdapter(logger);
}
