// Test helpers for the delay index: a store whose logs outlive the index (so a test can
// reopen it, as after a restart), and a driver that advances a ManualClock and lets the
// index's asynchronous work finish between steps.

import type { ManualClock } from '../../common/clock.js';
import type { Log } from '../../storage/log.js';
import { createMemoryLog } from '../../storage/memory-log.js';
import type { DelayIndex } from './delay-index.js';
import type { DelayStore } from './delay-store.js';

function unclosable(log: Log): Log {
  return {
    get startOffset() {
      return log.startOffset;
    },
    get nextOffset() {
      return log.nextOffset;
    },
    get committedOffset() {
      return log.committedOffset;
    },
    get sizeBytes() {
      return log.sizeBytes;
    },
    get segmentCount() {
      return log.segmentCount;
    },
    get activeSegmentBaseOffset() {
      return log.activeSegmentBaseOffset;
    },
    append: (batch) => log.append(batch),
    read: (from, maxBytes) => log.read(from, maxBytes),
    offsetForTimestamp: (timestampMs) => log.offsetForTimestamp(timestampMs),
    deleteBefore: (offset) => log.deleteBefore(offset),
    enforceRetention: (policy, nowMs) => log.enforceRetention(policy, nowMs),
    compact: (options) => log.compact(options),
    flush: () => log.flush(),
    close: () => Promise.resolve(),
  };
}

export interface DurableMemoryStore extends DelayStore {
  readonly logs: Map<string, Log>;
}

/** Bucket logs in memory that survive closing the index that used them. */
export function durableMemoryStore(): DurableMemoryStore {
  const logs = new Map<string, Log>();
  return {
    logs,
    list: () => Promise.resolve([...logs.keys()]),
    open: (name) => {
      let log = logs.get(name);
      if (log === undefined) {
        log = createMemoryLog({ fsync: { kind: 'never' } });
        logs.set(name, log);
      }
      return Promise.resolve(unclosable(log));
    },
    remove: (name) => {
      logs.delete(name);
      return Promise.resolve();
    },
  };
}

/** Lets every load, cascade and release finish, firing timers that fall due meanwhile. */
export async function settle(clock: ManualClock, index: DelayIndex): Promise<void> {
  for (let round = 0; round < 1000; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    await index.whenIdle();
    clock.advance(0);
    await new Promise((resolve) => setImmediate(resolve));
    if (!index.busy) return;
  }
  throw new Error('the delay index did not settle');
}

/** Advances the clock by `totalMs` in steps of at most `stepMs`, settling after each. */
export async function advance(
  clock: ManualClock,
  index: DelayIndex,
  totalMs: number,
  stepMs = 250,
): Promise<void> {
  let left = totalMs;
  while (left > 0) {
    const step = Math.min(stepMs, left);
    clock.advance(step);
    left -= step;
    await settle(clock, index);
  }
  await settle(clock, index);
}
