// Argument parsers for the client commands: each turns one flag's text into a typed value
// or throws commander's InvalidArgumentError, which commander reports naming the flag.

import { InvalidArgumentError } from 'commander';
import type {
  AckPolicy,
  ConsumerConfigInput,
  DeliverPolicy,
  Discard,
  Dispatch,
  Headers,
  Retention,
  StorageKind,
  StreamConfigInput,
} from '../../core/api.js';
import type { FsyncPolicy } from '../../storage/log.js';

export function integerArgument(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('expected an integer.');
    const parsed = Number(value);
    if (parsed < min || parsed > max)
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    return parsed;
  };
}

/** `1024`, `1k`, `1KiB`, `4m`: byte counts with binary suffixes. */
export function byteSizeArgument(value: string): number {
  const match = /^(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(value.trim());
  if (match === null) throw new InvalidArgumentError('expected a size such as 100, 1k or 4MiB.');
  const unit = (match[2] ?? 'b').toLowerCase()[0];
  const scale = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(match[1]) * scale;
}

export function listArgument(value: string, previous: string[] | undefined): string[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return [...(previous ?? []), ...items];
}

/** Repeatable `--header key=value`. Values stay strings: headers typed otherwise need the API. */
export function headerArgument(
  value: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const equals = value.indexOf('=');
  if (equals <= 0) throw new InvalidArgumentError('expected key=value.');
  return { ...(previous ?? {}), [value.slice(0, equals)]: value.slice(equals + 1) };
}

/** `all`, `new`, `last`, `last_per_subject`, `offset:<n>`, `time:<ISO date or ms>`. */
export function deliverPolicyArgument(value: string): DeliverPolicy {
  switch (value) {
    case 'all':
    case 'new':
    case 'last':
    case 'last_per_subject':
      return { kind: value };
  }
  if (value.startsWith('offset:')) {
    return { kind: 'offset', offset: integerArgument(0)(value.slice('offset:'.length)) };
  }
  if (value.startsWith('time:')) {
    const text = value.slice('time:'.length);
    const timeMs = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    if (Number.isNaN(timeMs))
      throw new InvalidArgumentError('expected time:<ISO date> or time:<ms since epoch>.');
    return { kind: 'time', timeMs };
  }
  throw new InvalidArgumentError('expected all, new, last, last_per_subject, offset:<n> or time:<date>.');
}

/** `always`, `never` or `interval:<ms>`, as DESIGN.md §3 names them. */
export function fsyncArgument(value: string): FsyncPolicy {
  if (value === 'always' || value === 'never') return { kind: value };
  if (value.startsWith('interval:')) {
    return { kind: 'interval', intervalMs: integerArgument(1)(value.slice('interval:'.length)) };
  }
  throw new InvalidArgumentError('expected always, never or interval:<ms>.');
}

export interface StreamAddFlags {
  readonly subjects?: string[];
  readonly retention?: Retention;
  readonly storage?: StorageKind;
  readonly discard?: Discard;
  readonly maxAgeMs?: number;
  readonly maxBytes?: number;
  readonly maxMessages?: number;
  readonly partitions?: number;
  readonly fsync?: FsyncPolicy;
  readonly deadLetterSubject?: string;
  readonly tombstoneRetentionMs?: number;
  readonly compactionDirtyRatio?: number;
  readonly compactionIntervalMs?: number;
}

/** A share from 0 to 1, as `0.5`. */
export function ratioArgument(value: string): number {
  const parsed = Number(value.trim());
  if (!/^\d*\.?\d+$/.test(value.trim()) || !(parsed >= 0 && parsed <= 1)) {
    throw new InvalidArgumentError('expected a number from 0 to 1.');
  }
  return parsed;
}

/** `weir stream add <name> --subjects …` → the core's stream config input. */
export function streamConfigFromFlags(name: string, flags: StreamAddFlags): StreamConfigInput {
  const subjects = flags.subjects ?? [name];
  const config: { -readonly [K in keyof StreamConfigInput]: StreamConfigInput[K] } = { name, subjects };
  if (flags.retention !== undefined) config.retention = flags.retention;
  if (flags.storage !== undefined) config.storage = flags.storage;
  if (flags.discard !== undefined) config.discard = flags.discard;
  if (flags.maxAgeMs !== undefined) config.maxAgeMs = flags.maxAgeMs;
  if (flags.maxBytes !== undefined) config.maxBytes = flags.maxBytes;
  if (flags.maxMessages !== undefined) config.maxMessages = flags.maxMessages;
  if (flags.partitions !== undefined) config.partitions = flags.partitions;
  if (flags.fsync !== undefined) config.fsync = flags.fsync;
  if (flags.deadLetterSubject !== undefined) config.deadLetterSubject = flags.deadLetterSubject;
  if (flags.tombstoneRetentionMs !== undefined) config.tombstoneRetentionMs = flags.tombstoneRetentionMs;
  if (flags.compactionDirtyRatio !== undefined) config.compactionDirtyRatio = flags.compactionDirtyRatio;
  if (flags.compactionIntervalMs !== undefined) config.compactionIntervalMs = flags.compactionIntervalMs;
  return config;
}

export interface ConsumerAddFlags {
  readonly filter?: string;
  readonly deliver?: DeliverPolicy;
  readonly ack?: AckPolicy;
  readonly ackWaitMs?: number;
  readonly maxDeliver?: number;
  readonly backoffMs?: string[];
  readonly maxAckPending?: number;
  readonly dispatch?: Dispatch;
  readonly ephemeral?: boolean;
}

/** `weir consumer add <stream> <name> …` → the core's consumer config input. */
export function consumerConfigFromFlags(name: string, flags: ConsumerAddFlags): ConsumerConfigInput {
  const config: { -readonly [K in keyof ConsumerConfigInput]: ConsumerConfigInput[K] } = {
    name,
    durable: flags.ephemeral !== true,
  };
  if (flags.filter !== undefined) config.filterSubject = flags.filter;
  if (flags.deliver !== undefined) config.deliverPolicy = flags.deliver;
  if (flags.ack !== undefined) config.ackPolicy = flags.ack;
  if (flags.ackWaitMs !== undefined) config.ackWaitMs = flags.ackWaitMs;
  if (flags.maxDeliver !== undefined) config.maxDeliver = flags.maxDeliver;
  if (flags.backoffMs !== undefined)
    config.backoffMs = flags.backoffMs.map((item) => integerArgument(0)(item));
  if (flags.maxAckPending !== undefined) config.maxAckPending = flags.maxAckPending;
  if (flags.dispatch !== undefined) config.dispatch = flags.dispatch;
  return config;
}

/** Headers from `--header` flags, typed as the core's header map. */
export function headersFromFlags(flags: Record<string, string> | undefined): Headers {
  return { ...(flags ?? {}) };
}
