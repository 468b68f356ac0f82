// The three outside sources of configuration, each turned into a raw partial object for
// mergeOptions() and parseOptions() (options.ts): a config file (YAML or JSON), environment
// variables, and command-line flags. One table names every setting that env and flags can
// reach, so the two never drift apart and the README table is written from it.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { InvalidArgumentError } from '../common/errors.js';
import { protocolNames } from './options.js';

type Raw = Record<string, unknown>;
type Kind = 'string' | 'integer' | 'boolean' | 'path';

export interface Setting {
  /** Where the value goes in the configuration object. */
  readonly field: readonly string[];
  readonly env: string;
  /** The commander option key (camelCase of the flag), if there is a flag. */
  readonly flag: string | undefined;
  readonly kind: Kind;
}

function setting(field: string, env: string, flag: string | undefined, kind: Kind): Setting {
  return { field: field.split('.'), env, flag, kind };
}

/** Every setting reachable from the environment (and most from flags). */
export const settings: readonly Setting[] = [
  setting('dataDir', 'WEIR_DATA_DIR', 'dataDir', 'path'),
  setting('host', 'WEIR_HOST', 'host', 'string'),
  setting('logLevel', 'WEIR_LOG_LEVEL', 'logLevel', 'string'),
  setting('portsFile', 'WEIR_PORTS_FILE', 'portsFile', 'path'),
  setting('shutdownGraceMs', 'WEIR_SHUTDOWN_GRACE_MS', 'shutdownGraceMs', 'integer'),
  setting('auth.usersFile', 'WEIR_USERS_FILE', 'usersFile', 'path'),
  setting('auth.guest', 'WEIR_GUEST', 'guest', 'string'),
  setting('auth.anonymous', 'WEIR_ANONYMOUS', 'anonymous', 'string'),
  setting('limits.connectionsMax', 'WEIR_CONNECTIONS_MAX', undefined, 'integer'),
  setting('limits.frameBytesMax', 'WEIR_FRAME_BYTES_MAX', undefined, 'integer'),
  setting('limits.messageBytesMax', 'WEIR_MESSAGE_BYTES_MAX', undefined, 'integer'),
  ...protocolNames.flatMap((name) => [
    setting(`protocols.${name}.port`, `WEIR_${name.toUpperCase()}_PORT`, `${name}Port`, 'integer'),
    setting(`protocols.${name}.host`, `WEIR_${name.toUpperCase()}_HOST`, undefined, 'string'),
    setting(`protocols.${name}.enabled`, `WEIR_${name.toUpperCase()}_ENABLED`, undefined, 'boolean'),
  ]),
  setting('http.port', 'WEIR_HTTP_PORT', 'httpPort', 'integer'),
  setting('http.host', 'WEIR_HTTP_HOST', undefined, 'string'),
  setting('http.enabled', 'WEIR_HTTP_ENABLED', undefined, 'boolean'),
];

function convert(value: string, kind: Kind, source: string): unknown {
  switch (kind) {
    case 'string':
      return value;
    case 'path':
      return path.resolve(value);
    case 'integer':
      if (!/^-?\d+$/.test(value.trim())) {
        throw new InvalidArgumentError(`${source} must be an integer, got ${JSON.stringify(value)}`);
      }
      return Number(value.trim());
    case 'boolean': {
      const lower = value.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(lower)) return true;
      if (['false', '0', 'no', 'off'].includes(lower)) return false;
      throw new InvalidArgumentError(`${source} must be true or false, got ${JSON.stringify(value)}`);
    }
  }
}

function put(target: Raw, field: readonly string[], value: unknown): void {
  let node = target;
  for (const key of field.slice(0, -1)) {
    const next = node[key];
    if (typeof next === 'object' && next !== null) node = next as Raw;
    else node = node[key] = {};
  }
  node[field[field.length - 1] as string] = value;
}

/** Reads the `WEIR_*` variables; empty ones count as unset. */
export function optionsFromEnv(env: NodeJS.ProcessEnv): Raw {
  const raw: Raw = {};
  for (const item of settings) {
    const value = env[item.env];
    if (value === undefined || value === '') continue;
    put(raw, item.field, convert(value, item.kind, item.env));
  }
  return raw;
}

export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/**
 * Turns parsed `weir serve` flags (commander's camelCase keys, string values) into a raw
 * partial configuration. `disable` is a list of listeners to switch off.
 */
export function optionsFromFlags(flags: Readonly<Record<string, unknown>>): Raw {
  const raw: Raw = {};
  for (const item of settings) {
    if (item.flag === undefined) continue;
    const value = flags[item.flag];
    if (value === undefined) continue;
    put(raw, item.field, convert(String(value), item.kind, flagName(item.flag)));
  }
  const disable = flags.disable;
  if (disable !== undefined) {
    const names = (Array.isArray(disable) ? disable : [disable])
      .flatMap((entry) => String(entry).split(','))
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    for (const name of names) {
      if (name === 'http') put(raw, ['http', 'enabled'], false);
      else if ((protocolNames as readonly string[]).includes(name))
        put(raw, ['protocols', name, 'enabled'], false);
      else {
        throw new InvalidArgumentError(
          `--disable: unknown listener ${JSON.stringify(name)} (known: ${[...protocolNames, 'http'].join(', ')})`,
        );
      }
    }
  }
  return raw;
}

/** Fields holding file paths: relative ones in a config file are relative to that file. */
const pathFields = settings.filter((item) => item.kind === 'path').map((item) => item.field);

/** Reads a YAML or JSON config file (JSON by `.json`, YAML otherwise; YAML accepts JSON too). */
export async function loadConfigFile(file: string): Promise<Raw> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`config file ${file} cannot be read: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    if (file.endsWith('.json')) parsed = JSON.parse(content);
    else {
      const document = YAML.parseDocument(content, { prettyErrors: true, uniqueKeys: true });
      const first = document.errors[0];
      if (first !== undefined) throw first;
      parsed = document.toJS();
    }
  } catch (error) {
    throw new InvalidArgumentError(`config file ${file} is not valid: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`config file ${file} must hold an object (a mapping) at the top`);
  }
  const raw = parsed as Raw;
  const directory = path.dirname(path.resolve(file));
  for (const field of pathFields) {
    let node: unknown = raw;
    for (const key of field.slice(0, -1)) node = (node as Raw | undefined)?.[key];
    const last = field[field.length - 1] as string;
    if (typeof node === 'object' && node !== null && typeof (node as Raw)[last] === 'string') {
      (node as Raw)[last] = path.resolve(directory, (node as Raw)[last] as string);
    }
  }
  return raw;
}
