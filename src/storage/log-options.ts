// Log options, checked once when a log opens (STYLE.md: one parseOptions that rejects bad
// input with InvalidArgumentError), so the hot path can trust them.

import type { Clock } from '../common/clock.js';
import { SystemClock } from '../common/clock.js';
import { ErrorCode, InvalidArgumentError, WeirError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import type { FsyncPolicy, LogOptions, RetentionPolicy } from './log.js';

export interface ParsedLogOptions {
  readonly fsync: FsyncPolicy;
  readonly segmentBytesMax: number;
  /** Infinity when segments do not roll by age. */
  readonly segmentAgeMs: number;
  readonly indexIntervalBytes: number;
  readonly clock: Clock;
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

export function parseFsyncPolicy(policy: FsyncPolicy): FsyncPolicy {
  switch (policy.kind) {
    case 'always':
    case 'never':
      return policy;
    case 'interval':
      checkInteger('fsync interval', policy.intervalMs, 1, Limits.fsyncIntervalMsMax);
      return policy;
    default:
      throw new InvalidArgumentError(`unknown fsync policy ${JSON.stringify(policy)}`);
  }
}

/** Parses the configuration spelling of a policy: `always`, `never` or `interval:<ms>`. */
export function fsyncPolicyFromString(text: string): FsyncPolicy {
  if (text === 'always' || text === 'never') return { kind: text };
  const match = /^interval:(\d+)$/.exec(text);
  if (match !== null) return parseFsyncPolicy({ kind: 'interval', intervalMs: Number(match[1]) });
  throw new InvalidArgumentError(`fsync policy must be always, never or interval:<ms>, got ${text}`);
}

export function parseLogOptions(options: LogOptions = {}): ParsedLogOptions {
  const segmentBytesMax = checkInteger(
    'segmentBytesMax',
    options.segmentBytesMax ?? Limits.segmentBytesDefault,
    Limits.segmentBytesMin,
    Limits.segmentBytesMax,
  );
  const segmentAgeMs =
    options.segmentAgeMs === undefined
      ? Infinity
      : checkInteger('segmentAgeMs', options.segmentAgeMs, Limits.segmentAgeMsMin, Number.MAX_SAFE_INTEGER);
  const indexIntervalBytes = checkInteger(
    'indexIntervalBytes',
    options.indexIntervalBytes ?? Limits.indexIntervalBytes,
    1,
    Limits.segmentBytesMax,
  );
  return {
    fsync: parseFsyncPolicy(options.fsync ?? { kind: 'always' }),
    segmentBytesMax,
    segmentAgeMs,
    indexIntervalBytes,
    clock: options.clock ?? new SystemClock(),
  };
}

/** The bounds a read must respect, for both logs. */
export function checkReadRange(
  fromOffset: number,
  maxBytes: number,
  startOffset: number,
  nextOffset: number,
): void {
  if (!Number.isSafeInteger(fromOffset) || fromOffset < startOffset || fromOffset > nextOffset) {
    throw new WeirError(
      ErrorCode.OffsetOutOfRange,
      `offset ${fromOffset} is outside the log's range ${startOffset} … ${nextOffset}`,
    );
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1 || maxBytes > Limits.logReadBytesMax) {
    throw new InvalidArgumentError(
      `read maxBytes must be from 1 to ${Limits.logReadBytesMax}, got ${maxBytes}`,
    );
  }
}

export function checkRetentionPolicy(policy: RetentionPolicy): void {
  for (const [name, value] of [
    ['maxBytes', policy.maxBytes],
    ['maxAgeMs', policy.maxAgeMs],
  ] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new InvalidArgumentError(`retention ${name} must be a non-negative integer, got ${value}`);
    }
  }
}
