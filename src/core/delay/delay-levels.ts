// The time buckets of the delay index: a hierarchical timing wheel kept on disk. Pure
// arithmetic, no I/O.
//
// | level | bucket width | holds entries due within |
// | ----- | ------------ | ------------------------ |
// | 0     | 1 second     | 1 minute                 |
// | 1     | 1 minute     | 1 hour                   |
// | 2     | 1 hour       | 1 day                    |
// | 3     | 1 day        | 100 days                 |
// | 4     | 100 days     | any later time (≤ 100 years, Limits.delayMsMax) |
//
// An entry goes to the finest level whose horizon (plus one level-0 width of margin) covers
// its distance from now. A bucket of level k ≥ 1 cascades (its entries move to finer levels)
// once every entry in it is within that reach of level k-1; so an entry 100 years out is
// rewritten at most four times, and at any moment there are a few hundred buckets at most
// (62 + 62 + 26 + 102 + 366). Level-0 buckets are loaded into memory one width before they
// start ("hot"); all others stay on disk. Memory therefore holds about two seconds of due
// entries, however many are pending.
//
// Why a cascade cannot race an insert: an entry goes to level k only when its distance is at
// least reach(k-1), so `now ≤ due - reach(k-1) < end - reach(k-1)`, the bucket's cascade
// time. A clock that steps backwards is handled by the index: an insert into a bucket that
// is already cascading goes one level finer.

import { assert } from '../../common/assert.js';

export const levelWidthsMs = [1_000, 60_000, 3_600_000, 86_400_000, 100 * 86_400_000] as const;
export const levelHorizonsMs = [60_000, 3_600_000, 86_400_000, 100 * 86_400_000, Infinity] as const;
export const levelCount = levelWidthsMs.length;

/** How far ahead a level takes entries: its horizon plus one level-0 width of margin. */
function reachMs(level: number): number {
  return levelHorizonsMs[level]! + levelWidthsMs[0];
}

/** The finest level whose reach covers `dueMs` seen from `nowMs`. */
export function levelFor(dueMs: number, nowMs: number): number {
  const distanceMs = dueMs - nowMs;
  for (let level = 0; level < levelCount; level++) {
    if (distanceMs < reachMs(level)) return level;
  }
  return levelCount - 1;
}

export function bucketStartMs(level: number, dueMs: number): number {
  const width = levelWidthsMs[level];
  assert(width !== undefined, 'a known level');
  return Math.floor(dueMs / width) * width;
}

export function bucketEndMs(level: number, startMs: number): number {
  return startMs + levelWidthsMs[level]!;
}

/** When a level-0 bucket is loaded into memory. */
export function hotAtMs(startMs: number): number {
  return startMs - levelWidthsMs[0];
}

/** When a bucket of level ≥ 1 moves its entries to finer levels. */
export function cascadeAtMs(level: number, startMs: number): number {
  assert(level >= 1, 'level 0 does not cascade');
  return bucketEndMs(level, startMs) - reachMs(level - 1);
}

/** A bucket's log name: `d<level>-<startMs>`, sortable within a level. */
export function bucketName(level: number, startMs: number): string {
  return `d${level}-${String(startMs).padStart(16, '0')}`;
}

export function parseBucketName(name: string): { level: number; startMs: number } | undefined {
  const match = /^d(\d)-(\d{16})$/.exec(name);
  if (match === null) return undefined;
  const level = Number(match[1]);
  const startMs = Number(match[2]);
  if (level >= levelCount || startMs % levelWidthsMs[level]! !== 0) return undefined;
  return { level, startMs };
}
