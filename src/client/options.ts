// Options of `connect()`, checked once by parseConnectOptions (nats.js style): anything
// out of range or unknown is an InvalidArgumentError naming the option.

import type { Clock } from '../common/clock.js';
import { SystemClock } from '../common/clock.js';
import { InvalidArgumentError } from '../common/errors.js';
import { NativeLimits } from '../common/limits.js';

export interface ConnectOptions {
  /** `host:port`, `weir://host:port`, or several to try in turn. Default `127.0.0.1:4222` (the broker's default native port). */
  readonly servers?: string | readonly string[];
  readonly user?: string;
  readonly password?: string;
  /** Sent in HELLO; the broker uses it as the client id in logs. */
  readonly name?: string;
  /** Reconnect after a lost connection. Default true. */
  readonly reconnect?: boolean;
  /**
   * Stamp confirmed publishes with idempotent-producer sequences, so those re-sent after a
   * reconnect are confirmed, not stored twice (see network-producer.ts). Default true.
   */
  readonly idempotent?: boolean;
  /** First reconnect delay; doubles per failed attempt, with jitter. Default 100. */
  readonly reconnectDelayMs?: number;
  /** Longest reconnect delay. Default 5,000. */
  readonly reconnectDelayMsMax?: number;
  /** Give up after this many failed attempts in a row; -1 never gives up (default). */
  readonly reconnectAttemptsMax?: number;
  /** A connection attempt, handshake included, fails after this long. Default 5,000. */
  readonly connectTimeoutMs?: number;
  /** Heartbeat interval proposed to the broker; 0 turns heartbeats off. Default 15,000. */
  readonly heartbeatMs?: number;
  /** Administration and fetch requests fail after this long without an answer. Default 30,000. */
  readonly requestTimeoutMs?: number;
  /** Bytes of unsent and unconfirmed publishes held before `publish` refuses more. */
  readonly pendingBytesMax?: number;
  /** The largest frame the client accepts. */
  readonly frameBytesMax?: number;
  /** Timers come from here (tests pass a ManualClock). */
  readonly clock?: Clock;
}

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

export interface ParsedConnectOptions {
  readonly servers: readonly ServerAddress[];
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly name: string;
  readonly reconnect: boolean;
  readonly idempotent: boolean;
  readonly reconnectDelayMs: number;
  readonly reconnectDelayMsMax: number;
  readonly reconnectAttemptsMax: number;
  readonly connectTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly requestTimeoutMs: number;
  readonly pendingBytesMax: number;
  readonly frameBytesMax: number;
  readonly clock: Clock;
}

/** The native port `weir serve` listens on by default (docs/protocol.md). */
export const defaultPort = 4222;

const known = new Set([
  'servers',
  'user',
  'password',
  'name',
  'reconnect',
  'idempotent',
  'reconnectDelayMs',
  'reconnectDelayMsMax',
  'reconnectAttemptsMax',
  'connectTimeoutMs',
  'heartbeatMs',
  'requestTimeoutMs',
  'pendingBytesMax',
  'frameBytesMax',
  'clock',
]);

export function parseServer(text: string): ServerAddress {
  const bare = text.replace(/^weir:\/\//, '');
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(bare);
  if (match === null) throw new InvalidArgumentError(`servers: "${text}" is not host:port`);
  const host = (match[1] as string).replace(/^\[|\]$/g, '');
  const port = match[2] === undefined ? defaultPort : Number(match[2]);
  if (port < 1 || port > 65_535)
    throw new InvalidArgumentError(`servers: port ${port} of "${text}" is out of range`);
  return { host, port };
}

function integer(
  options: ConnectOptions,
  name: keyof ConnectOptions,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

export function parseConnectOptions(options: ConnectOptions = {}): ParsedConnectOptions {
  for (const name of Object.keys(options)) {
    if (!known.has(name)) throw new InvalidArgumentError(`${name} is not a connect option`);
  }
  const list = options.servers === undefined ? [`127.0.0.1:${defaultPort}`] : options.servers;
  const servers = (typeof list === 'string' ? [list] : list).map(parseServer);
  if (servers.length === 0) throw new InvalidArgumentError('servers: give at least one');
  for (const name of ['user', 'password', 'name'] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== 'string')
      throw new InvalidArgumentError(`${name} must be a string`);
  }
  if (options.reconnect !== undefined && typeof options.reconnect !== 'boolean') {
    throw new InvalidArgumentError('reconnect must be true or false');
  }
  if (options.idempotent !== undefined && typeof options.idempotent !== 'boolean') {
    throw new InvalidArgumentError('idempotent must be true or false');
  }
  const reconnectDelayMs = integer(options, 'reconnectDelayMs', 100, 1, NativeLimits.reconnectDelayMsMax);
  return {
    servers,
    user: options.user,
    password: options.password,
    name: options.name ?? '',
    reconnect: options.reconnect ?? true,
    idempotent: options.idempotent ?? true,
    reconnectDelayMs,
    reconnectDelayMsMax: integer(
      options,
      'reconnectDelayMsMax',
      Math.max(5_000, reconnectDelayMs),
      reconnectDelayMs,
      NativeLimits.reconnectDelayMsMax,
    ),
    reconnectAttemptsMax: integer(options, 'reconnectAttemptsMax', -1, -1, Number.MAX_SAFE_INTEGER),
    connectTimeoutMs: integer(options, 'connectTimeoutMs', 5_000, 1, 600_000),
    heartbeatMs: integer(
      options,
      'heartbeatMs',
      NativeLimits.heartbeatMsDefault,
      0,
      NativeLimits.heartbeatMsMax,
    ),
    requestTimeoutMs: integer(options, 'requestTimeoutMs', 30_000, 1, 3_600_000),
    pendingBytesMax: integer(
      options,
      'pendingBytesMax',
      NativeLimits.clientPendingBytesMax,
      1024,
      NativeLimits.clientPendingBytesMax * 16,
    ),
    frameBytesMax: integer(options, 'frameBytesMax', NativeLimits.frameBytesDefault, 1024, 0xffffffff),
    clock: options.clock ?? new SystemClock(),
  };
}
