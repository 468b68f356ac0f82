// Which segments retention and deleteBefore remove: always whole segments, always the oldest
// first, never a segment that still holds a record the rule keeps. Pure, so that FileLog and
// MemoryLog decide exactly alike.

import type { RetentionPolicy } from './log.js';

/** What retention needs to know about one segment. */
export interface SegmentSummary {
  readonly baseOffset: number;
  /** The offset after its last record; equal to baseOffset when the segment is empty. */
  readonly nextOffset: number;
  readonly sizeBytes: number;
  /** Largest record timestamp in the segment; -Infinity when empty. */
  readonly maxTimestampMs: number;
}

/**
 * How many leading segments lie entirely below `offset`. May be all of them, the active one
 * included: the caller then rolls a fresh empty segment first so that the log keeps its
 * nextOffset. An empty segment is never counted.
 */
export function segmentsBelow(segments: readonly SegmentSummary[], offset: number): number {
  let count = 0;
  for (const segment of segments) {
    if (segment.nextOffset === segment.baseOffset || segment.nextOffset > offset) break;
    count++;
  }
  return count;
}

/**
 * How many leading segments the policy removes. Age: segments whose newest record is older
 * than maxAgeMs, the active one included (a whole idle log expires). Bytes: the oldest
 * segments while the log is larger than maxBytes, never the active one, so that the newest
 * records always stay readable.
 */
export function segmentsToRetire(
  segments: readonly SegmentSummary[],
  policy: RetentionPolicy,
  nowMs: number,
): number {
  let count = 0;
  if (policy.maxAgeMs !== undefined) {
    const oldestKeptMs = nowMs - policy.maxAgeMs;
    while (count < segments.length) {
      const segment = segments[count]!;
      if (segment.nextOffset === segment.baseOffset || segment.maxTimestampMs >= oldestKeptMs) break;
      count++;
    }
  }
  if (policy.maxBytes !== undefined) {
    let remainingBytes = 0;
    for (let index = count; index < segments.length; index++) remainingBytes += segments[index]!.sizeBytes;
    while (count < segments.length - 1 && remainingBytes > policy.maxBytes) {
      remainingBytes -= segments[count]!.sizeBytes;
      count++;
    }
  }
  return count;
}
