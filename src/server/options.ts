// Server configuration: one shape, one validator. Every source (a YAML or JSON file,
// environment variables, command-line flags, or an object passed to startServer()) yields a
// partial raw object; they are merged flags > env > file > defaults and the result passes
// through parseOptions(), which rejects bad input with InvalidArgumentError naming the
// field (`protocols.mqtt.port must be an integer from 0 to 65535, got "abc"`).
//
// Defaults (docs: README.md "Configuration"):
//
//   dataDir ./data · host 127.0.0.1 · native 4222 · mqtt 1883 · stomp 61613 ·
//   amqp 5672 (reserved: no adapter yet) · http 8080 (health, WebSocket for MQTT and STOMP)

import { isIP } from 'node:net';
import { InvalidArgumentError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import { type LogLevel, logLevels } from '../common/logger.js';
import { type AccessRule, accessRules } from '../core/auth.js';
import type { ProtocolLimits } from '../core/protocol-server.js';

/** Protocols that listen on a TCP port of their own. */
export const protocolNames = ['native', 'mqtt', 'stomp', 'amqp'] as const;
export type ProtocolName = (typeof protocolNames)[number];

export const defaultPorts: Readonly<Record<ProtocolName | 'http', number>> = {
  native: 4222,
  mqtt: 1883,
  stomp: 61613,
  amqp: 5672,
  http: 8080,
};

export interface ListenerOptions {
  /**
   * Undefined means "if this build has the adapter": a protocol without one is skipped with
   * a log line. `true` for a protocol without an adapter is an error.
   */
  readonly enabled: boolean | undefined;
  readonly host: string;
  /** 0 lets the operating system choose; the bound port is reported once listening. */
  readonly port: number;
  /** The protocol's own options, validated by its adapter. */
  readonly options: Readonly<Record<string, unknown>>;
}

export interface HttpOptions {
  readonly enabled: boolean;
  readonly host: string;
  readonly port: number;
}

export interface AuthOptions {
  /** A users file (`weir passwd`); without one only guest and anonymous rules apply. */
  readonly usersFile: string | undefined;
  readonly guest: AccessRule;
  readonly anonymous: AccessRule;
}

export interface ServerOptions {
  readonly dataDir: string;
  /** Default bind address of every listener. */
  readonly host: string;
  readonly logLevel: LogLevel;
  /** Written (JSON: pid and bound ports) once every listener is bound; removed on close. */
  readonly portsFile: string | undefined;
  /** How long shutdown waits for adapters to close their connections before destroying them. */
  readonly shutdownGraceMs: number;
  readonly auth: AuthOptions;
  readonly limits: ProtocolLimits;
  readonly protocols: Readonly<Record<ProtocolName, ListenerOptions>>;
  readonly http: HttpOptions;
}

/** What callers may give: any subset, any nesting, validated by parseOptions(). */
export type ServerOptionsInput = Readonly<Record<string, unknown>>;

type Raw = Record<string, unknown>;

function isPlainObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** Deep-merges plain objects; later sources win, arrays and scalars are replaced, undefined is skipped. */
export function mergeOptions(...sources: readonly (ServerOptionsInput | undefined)[]): Raw {
  const result: Raw = {};
  for (const source of sources) {
    if (source === undefined) continue;
    for (const [key, value] of Object.entries(source)) {
      if (value === undefined) continue;
      const existing = result[key];
      result[key] = isPlainObject(existing) && isPlainObject(value) ? mergeOptions(existing, value) : value;
    }
  }
  return result;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
}

function fail(field: string, expected: string, value: unknown): never {
  throw new InvalidArgumentError(`${field} must be ${expected}, got ${describe(value)}`);
}

function section(raw: Raw, key: string, field: string): Raw {
  const value = raw[key];
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) fail(field, 'an object', value);
  return value;
}

function rejectUnknown(raw: Raw, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) {
      const field = prefix === '' ? key : `${prefix}.${key}`;
      throw new InvalidArgumentError(`unknown option ${field} (known here: ${known.join(', ')})`);
    }
  }
}

function integer(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(field, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

function boolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') fail(field, 'true or false', value);
  return value;
}

function text(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') fail(field, 'a non-empty string', value);
  return value;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(field, `one of ${allowed.join(', ')}`, value);
  }
  return value as T;
}

const hostnamePattern =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function host(value: unknown, field: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || (isIP(value) === 0 && !hostnamePattern.test(value))) {
    fail(field, 'an IP address or host name', value);
  }
  return value;
}

function port(value: unknown, field: string, fallback: number): number {
  return integer(value, field, 0, 65_535, fallback);
}

const topLevelKeys = [
  'dataDir',
  'host',
  'logLevel',
  'portsFile',
  'shutdownGraceMs',
  'auth',
  'limits',
  'protocols',
  'http',
] as const;

/** Validates a raw configuration (already merged from its sources) and fills in defaults. */
export function parseOptions(input: ServerOptionsInput = {}): ServerOptions {
  if (!isPlainObject(input)) fail('options', 'an object', input);
  const raw: Raw = input;
  rejectUnknown(raw, topLevelKeys, '');
  const defaultHost = host(raw.host, 'host', '127.0.0.1');

  const authRaw = section(raw, 'auth', 'auth');
  rejectUnknown(authRaw, ['usersFile', 'guest', 'anonymous'], 'auth');
  const auth: AuthOptions = {
    usersFile: text(authRaw.usersFile, 'auth.usersFile'),
    guest: oneOf(authRaw.guest, 'auth.guest', accessRules, 'loopback'),
    anonymous: oneOf(authRaw.anonymous, 'auth.anonymous', accessRules, 'loopback'),
  };

  const limitsRaw = section(raw, 'limits', 'limits');
  rejectUnknown(limitsRaw, ['connectionsMax', 'frameBytesMax', 'messageBytesMax'], 'limits');
  const limits: ProtocolLimits = {
    connectionsMax: integer(
      limitsRaw.connectionsMax,
      'limits.connectionsMax',
      1,
      Limits.connectionsPerProtocolMax,
      Limits.connectionsPerProtocolDefault,
    ),
    frameBytesMax: integer(
      limitsRaw.frameBytesMax,
      'limits.frameBytesMax',
      1024,
      Limits.frameBytesLimit,
      Limits.frameBytesDefault,
    ),
    messageBytesMax: integer(
      limitsRaw.messageBytesMax,
      'limits.messageBytesMax',
      1,
      Limits.messageBytesLimit,
      Limits.messageBytesDefault,
    ),
  };

  const protocolsRaw = section(raw, 'protocols', 'protocols');
  rejectUnknown(protocolsRaw, protocolNames, 'protocols');
  const protocols = {} as Record<ProtocolName, ListenerOptions>;
  for (const name of protocolNames) {
    const prefix = `protocols.${name}`;
    const listenerRaw = section(protocolsRaw, name, prefix);
    rejectUnknown(listenerRaw, ['enabled', 'host', 'port', 'options'], prefix);
    protocols[name] = {
      enabled: boolean(listenerRaw.enabled, `${prefix}.enabled`),
      host: host(listenerRaw.host, `${prefix}.host`, defaultHost),
      port: port(listenerRaw.port, `${prefix}.port`, defaultPorts[name]),
      options: section(listenerRaw, 'options', `${prefix}.options`),
    };
  }

  const httpRaw = section(raw, 'http', 'http');
  rejectUnknown(httpRaw, ['enabled', 'host', 'port'], 'http');
  const http: HttpOptions = {
    enabled: boolean(httpRaw.enabled, 'http.enabled') ?? true,
    host: host(httpRaw.host, 'http.host', defaultHost),
    port: port(httpRaw.port, 'http.port', defaultPorts.http),
  };

  return {
    dataDir: text(raw.dataDir, 'dataDir') ?? './data',
    host: defaultHost,
    logLevel: oneOf(raw.logLevel, 'logLevel', logLevels, 'info'),
    portsFile: text(raw.portsFile, 'portsFile'),
    shutdownGraceMs: integer(
      raw.shutdownGraceMs,
      'shutdownGraceMs',
      0,
      Limits.shutdownGraceMsMax,
      Limits.shutdownGraceMsDefault,
    ),
    auth,
    limits,
    protocols,
    http,
  };
}
