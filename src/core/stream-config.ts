// Stream definitions: defaults and validation. Every input passes through one parse function
// that rejects bad values with InvalidArgumentError (STYLE.md), so the rest of the core
// trusts a StreamConfig.

import { InvalidArgumentError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import type { FsyncPolicy } from '../storage/log.js';
import type { StreamConfig, StreamConfigInput } from './api.js';
import { validateFilter, validateSubject } from './subject.js';

const namePattern = /^[A-Za-z0-9_-]+$/;

export function validateName(kind: 'stream' | 'consumer', name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError(`${kind} name must be a non-empty string`);
  }
  if (name.length > Limits.nameLengthMax) {
    throw new InvalidArgumentError(`${kind} name is longer than ${Limits.nameLengthMax} characters`);
  }
  if (!namePattern.test(name)) {
    throw new InvalidArgumentError(`${kind} name '${name}' may only hold letters, digits, '_' and '-'`);
  }
  return name;
}

export function defaultDeadLetterSubject(streamName: string): string {
  return `$DLQ.${streamName}`;
}

export function parseStreamConfig(input: StreamConfigInput): StreamConfig {
  const name = validateName('stream', input.name);
  if (!Array.isArray(input.subjects) || input.subjects.length === 0) {
    throw new InvalidArgumentError(`stream '${name}' must capture at least one subject`);
  }
  if (input.subjects.length > Limits.streamSubjectsMax) {
    throw new InvalidArgumentError(
      `stream '${name}' captures more than ${Limits.streamSubjectsMax} subjects`,
    );
  }
  const subjects = [...new Set(input.subjects)];
  for (const subject of subjects) validateFilter(subject);
  const retention = input.retention ?? 'limits';
  if (
    retention !== 'limits' &&
    retention !== 'interest' &&
    retention !== 'workqueue' &&
    retention !== 'compact'
  ) {
    throw new InvalidArgumentError(
      `retention must be limits, interest, workqueue or compact, not '${String(retention)}'`,
    );
  }
  const compaction = parseCompaction(retention, input);
  if (retention === 'compact' && input.maxMessages !== undefined) {
    // Offsets count compaction's gaps, so a message limit would remove latest values long
    // before the stream holds that many messages.
    throw new InvalidArgumentError(
      'maxMessages is not supported with retention compact; use maxBytes or maxAgeMs',
    );
  }
  const discard = input.discard ?? 'old';
  if (discard !== 'old' && discard !== 'new') {
    throw new InvalidArgumentError(`discard must be old or new, not '${String(discard)}'`);
  }
  const storage = input.storage ?? 'file';
  if (storage !== 'file' && storage !== 'memory') {
    throw new InvalidArgumentError(`storage must be file or memory, not '${String(storage)}'`);
  }
  const partitions = input.partitions ?? 1;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > Limits.partitionsMax) {
    throw new InvalidArgumentError(`partitions must be an integer from 1 to ${Limits.partitionsMax}`);
  }
  const deadLetterSubject = input.deadLetterSubject ?? defaultDeadLetterSubject(name);
  validateSubject(deadLetterSubject);
  // core2: the message-id dedup window.
  const dedupWindowMs = optionalPositive('dedupWindowMs', input.dedupWindowMs);
  if (dedupWindowMs !== undefined && dedupWindowMs > Limits.dedupWindowMsMax) {
    throw new InvalidArgumentError(`dedupWindowMs must be at most ${Limits.dedupWindowMsMax}`);
  }
  const deadLetterExpired = input.deadLetterExpired;
  if (deadLetterExpired !== undefined && typeof deadLetterExpired !== 'boolean') {
    throw new InvalidArgumentError('deadLetterExpired must be a boolean');
  }
  const dedupWindowIds = optionalPositive('dedupWindowIds', input.dedupWindowIds);
  if (dedupWindowIds !== undefined && dedupWindowIds > Limits.dedupWindowIdsMax) {
    throw new InvalidArgumentError(`dedupWindowIds must be at most ${Limits.dedupWindowIdsMax}`);
  }
  return {
    name,
    subjects,
    retention,
    maxAgeMs: optionalPositive('maxAgeMs', input.maxAgeMs),
    maxBytes: optionalPositive('maxBytes', input.maxBytes),
    maxMessages: optionalPositive('maxMessages', input.maxMessages),
    discard,
    storage,
    partitions,
    fsync: parseFsync(input.fsync ?? { kind: 'always' }),
    deadLetterSubject,
    ...(dedupWindowMs === undefined ? {} : { dedupWindowMs }),
    ...(dedupWindowIds === undefined ? {} : { dedupWindowIds }),
    ...(deadLetterExpired === undefined ? {} : { deadLetterExpired }),
    ...compaction,
  };
}

/** The compaction settings of a `compact` stream, defaults filled in; refused on any other. */
function parseCompaction(
  retention: string,
  input: StreamConfigInput,
): Pick<StreamConfig, 'tombstoneRetentionMs' | 'compactionDirtyRatio' | 'compactionIntervalMs'> {
  const { tombstoneRetentionMs, compactionDirtyRatio, compactionIntervalMs } = input;
  if (retention !== 'compact') {
    for (const [field, value] of Object.entries({
      tombstoneRetentionMs,
      compactionDirtyRatio,
      compactionIntervalMs,
    })) {
      if (value !== undefined) throw new InvalidArgumentError(`${field} needs retention compact`);
    }
    return {};
  }
  const tombstoneMs = tombstoneRetentionMs ?? Limits.tombstoneRetentionMsDefault;
  if (typeof tombstoneMs !== 'number' || !Number.isSafeInteger(tombstoneMs) || tombstoneMs < 0) {
    throw new InvalidArgumentError('tombstoneRetentionMs must be a non-negative integer');
  }
  const ratio = compactionDirtyRatio ?? Limits.compactionDirtyRatioDefault;
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) {
    throw new InvalidArgumentError('compactionDirtyRatio must be a number from 0 to 1');
  }
  const intervalMs = compactionIntervalMs ?? Limits.compactionIntervalMsDefault;
  if (
    typeof intervalMs !== 'number' ||
    !Number.isSafeInteger(intervalMs) ||
    intervalMs < Limits.compactionIntervalMsMin ||
    intervalMs > Limits.compactionIntervalMsMax
  ) {
    throw new InvalidArgumentError(
      `compactionIntervalMs must be an integer from ${Limits.compactionIntervalMsMin} to ${Limits.compactionIntervalMsMax}`,
    );
  }
  return { tombstoneRetentionMs: tombstoneMs, compactionDirtyRatio: ratio, compactionIntervalMs: intervalMs };
}

/** What `updateStream` may change; the rest is fixed at creation. */
export function mergeStreamUpdate(current: StreamConfig, input: StreamConfigInput): StreamConfig {
  const next = parseStreamConfig({ ...current, ...input });
  const fixed = ['storage', 'partitions', 'retention', 'dedupWindowMs', 'dedupWindowIds'] as const;
  for (const field of fixed) {
    if (next[field] !== current[field]) {
      throw new InvalidArgumentError(`stream '${current.name}': ${field} cannot change after creation`);
    }
  }
  return next;
}

export function parseFsync(input: unknown): FsyncPolicy {
  if (typeof input === 'string') {
    if (input === 'always' || input === 'never') return { kind: input };
    const match = /^interval:(\d+)$/.exec(input);
    if (match?.[1] !== undefined) return parseFsync({ kind: 'interval', intervalMs: Number(match[1]) });
  }
  if (typeof input === 'object' && input !== null && 'kind' in input) {
    const policy = input as { kind: unknown; intervalMs?: unknown };
    if (policy.kind === 'always' || policy.kind === 'never') return { kind: policy.kind };
    if (policy.kind === 'interval') {
      const intervalMs = policy.intervalMs;
      if (typeof intervalMs === 'number' && Number.isInteger(intervalMs) && intervalMs > 0) {
        return { kind: 'interval', intervalMs };
      }
    }
  }
  throw new InvalidArgumentError(`fsync must be always, never or interval:<ms>`);
}

function optionalPositive(field: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`${field} must be a positive integer`);
  }
  return value;
}
