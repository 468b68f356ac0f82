// Where a new consumer starts on each partition (its deliver policy).
//
// `all`, `new`, `offset` and `time` cost one index lookup. `last` without a filter is the
// last offset. `last` with a filter and `last_per_subject` read the partition once, at
// creation, to find the last matching message (per subject); every other stored offset is
// marked acked so the consumer never delivers it. That one read is proportional to the
// partition's size; it happens once per consumer, never again after a restart.

import { Limits } from '../common/limits.js';
import type { ConsumerConfig } from './api.js';
import type { PartitionStart } from './consumer.js';
import type { StreamPartition } from './stream-partition.js';
import { subjectMatches } from './subject.js';

export async function startPositions(
  partitions: readonly StreamPartition[],
  config: ConsumerConfig,
): Promise<PartitionStart[]> {
  const starts: PartitionStart[] = [];
  for (const partition of partitions) starts.push(await startPosition(partition, config));
  return starts;
}

async function startPosition(partition: StreamPartition, config: ConsumerConfig): Promise<PartitionStart> {
  const plain = (floor: number): PartitionStart => ({
    floor: Math.min(Math.max(floor, partition.firstOffset), partition.nextOffset),
    acked: [],
    counts: new Map(),
    scanUntil: partition.nextOffset,
  });
  const policy = config.deliverPolicy;
  switch (policy.kind) {
    case 'all':
      return plain(partition.firstOffset);
    case 'new':
      return plain(partition.nextOffset);
    case 'offset':
      return plain(policy.offset);
    case 'time':
      return plain(await partition.log.offsetForTimestamp(policy.timeMs));
    case 'last':
      if (config.filterSubject === undefined) return plain(partition.nextOffset - 1);
      return lastMatching(partition, config.filterSubject, false);
    case 'last_per_subject':
      return lastMatching(partition, config.filterSubject, true);
    default:
      return policy satisfies never;
  }
}

/** Reads the partition once; keeps the last matching offset (per subject when `perSubject`). */
async function lastMatching(
  partition: StreamPartition,
  filter: string | undefined,
  perSubject: boolean,
): Promise<PartitionStart> {
  const end = partition.nextOffset;
  const lastBySubject = new Map<string, number>();
  let last = -1;
  let from = partition.firstOffset;
  while (from < end) {
    const { messages, scannedTo } = await partition.read(from, Limits.consumerReadAheadMessagesMax);
    for (const stored of messages) {
      if (stored.offset >= end) break;
      const subject = stored.message.subject;
      if (filter !== undefined && !subjectMatches(filter, subject)) continue;
      if (perSubject) lastBySubject.set(subject, stored.offset);
      else last = stored.offset;
    }
    if (scannedTo <= from) break;
    from = scannedTo;
  }
  const chosen = perSubject ? [...lastBySubject.values()].sort((a, b) => a - b) : last >= 0 ? [last] : [];
  const first = chosen[0];
  if (first === undefined) {
    return { floor: end, acked: [], counts: new Map(), scanUntil: end };
  }
  // Ack the gaps between chosen offsets, and after the last one up to the end.
  const acked: { start: number; end: number }[] = [];
  for (let index = 0; index < chosen.length; index++) {
    const gapStart = (chosen[index] as number) + 1;
    const gapEnd = index + 1 < chosen.length ? (chosen[index + 1] as number) : end;
    if (gapEnd > gapStart) acked.push({ start: gapStart, end: gapEnd });
  }
  return { floor: first, acked, counts: new Map(), scanUntil: end };
}
