// The Logger seam: the broker logs structured records through this interface and nothing
// else (STYLE.md: `console.*` only in the CLI). The server implements it with pino
// (src/server/logging.ts); tests and embedders may pass `silentLogger` or their own.
//
// Every layer may import this file. A record is a message plus flat fields; child loggers
// add fields that every record they write carries (`{ protocol: 'mqtt', connection: 7 }`).

export type LogFields = Readonly<Record<string, unknown>>;

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export const logLevels: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export interface Logger {
  trace(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose records all carry `bindings` as well. */
  child(bindings: LogFields): Logger;
}

/** Discards everything: for tests and embedders that do not want logs. */
export const silentLogger: Logger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
