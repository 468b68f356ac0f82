// Deduplication for one stream, in front of its partitions' append queues:
//
// - idempotent producers (producer-state.ts): a publish stamped with producer id, epoch and
//   sequence; per partition. The stamp goes into the record batch (a producer's run of
//   consecutive sequences is one batch), so the table is rebuilt from the log after any
//   restart. On a clean close a snapshot of each table is written
//   (`producers-<partition>.json` in the stream directory) so the next open reads only the
//   batches after it; after a crash the log after the last snapshot (or all of it) is read
//   once. A compact stream also writes the snapshot before each compaction run, since a run
//   may remove the batches a rebuild would learn a producer's last sequence from.
// - the message-id window (message-id-window.ts), when the stream sets `dedupWindowMs`:
//   a publish whose message id was stored within the window is confirmed, not stored. After
//   a restart the window is rebuilt from the messages stored within it.
//
// A retry that arrives while its original is still being appended waits for the original
// and is confirmed with the same offset. Duplicates are answered with `duplicate: true`.
// Delayed messages are held outside the partition logs until due, so the window remembers
// them only until a restart, and idempotent producer stamps are refused on them
// (WEIR_NOT_SUPPORTED) rather than deduplicated in memory only.

import fs from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../../common/clock.js';
import { Offset } from '../../common/branded.js';
import type { Log } from '../../storage/log.js';
import type { Message } from '../api.js';
import { decodeMessage } from '../message-codec.js';
import { MessageIdWindow } from './message-id-window.js';
import { type ProducerSnapshotEntry, type ProducerStamp, ProducerStateTable } from './producer-state.js';

export type DedupConfirm = (
  error: Error | undefined,
  partition: number,
  offset: number,
  duplicate?: boolean,
) => void;

export interface DedupOptions {
  /** The message-id window, or undefined for none. */
  readonly windowMs: number | undefined;
  readonly windowIds: number;
}

interface Snapshot {
  readonly nextOffset: number;
  readonly producers: ProducerSnapshotEntry[];
}

const readBytes = 4 * 1024 * 1024;

function stampKey(partition: number, stamp: ProducerStamp): string {
  return `${partition}:${stamp.id}:${stamp.epoch}:${stamp.sequence}`;
}

function snapshotPath(directory: string, partition: number): string {
  return path.join(directory, `producers-${partition}.json`);
}

export class StreamDedup {
  readonly #tables: ProducerStateTable[];
  readonly #window: MessageIdWindow | undefined;
  readonly #clock: Clock;
  readonly #logs: readonly Log[];
  readonly #directory: string | undefined;
  /** Retries waiting for an original still being appended, by message id. */
  readonly #waiting = new Map<string, DedupConfirm[]>();
  /** Retries waiting for an original still being appended, by partition, producer and sequence. */
  readonly #waitingStamps = new Map<string, DedupConfirm[]>();
  duplicates = 0;

  private constructor(
    logs: readonly Log[],
    directory: string | undefined,
    options: DedupOptions,
    clock: Clock,
  ) {
    this.#logs = logs;
    this.#directory = directory;
    this.#tables = Array.from({ length: logs.length }, () => new ProducerStateTable());
    this.#window =
      options.windowMs === undefined ? undefined : new MessageIdWindow(options.windowMs, options.windowIds);
    this.#clock = clock;
  }

  /** Rebuilds producer tables (from snapshots and the batches after them) and the window. */
  static async open(
    logs: readonly Log[],
    directory: string | undefined,
    options: DedupOptions,
    clock: Clock,
  ): Promise<StreamDedup> {
    const dedup = new StreamDedup(logs, directory, options, clock);
    for (const [partition, log] of logs.entries()) {
      const table = dedup.#tables[partition]!;
      let from = log.startOffset as number;
      if (directory !== undefined) {
        const snapshot = await readSnapshot(snapshotPath(directory, partition));
        if (snapshot !== undefined && snapshot.nextOffset <= log.nextOffset) {
          table.restore(snapshot.producers);
          from = Math.max(from, snapshot.nextOffset);
        }
      }
      await scan(log, from, (batch) => table.applyBatch(batch));
    }
    if (dedup.#window !== undefined) await dedup.#rebuildWindow(logs, dedup.#window);
    return dedup;
  }

  /** The last sequence stored for a producer on a partition, or -1 (transaction recovery). */
  lastSequence(partition: number, producerId: bigint, epoch: number): number {
    return this.#tables[partition]?.lastSequence(producerId, epoch) ?? -1;
  }

  /** Memory of the message-id window, fixed at open. */
  get windowMemoryBytes(): number {
    return this.#window?.memoryBytes ?? 0;
  }

  /**
   * Decides a publish: undefined when it was answered as a duplicate (or will be, once its
   * original is stored) and must not be stored; otherwise the confirm to store it with, which
   * records what was stored. Throws WEIR_PRODUCER_FENCED and sequence errors.
   */
  admit(
    partition: number,
    message: Message,
    producer: ProducerStamp | undefined,
    confirm: DedupConfirm | undefined,
  ): { confirm: DedupConfirm | undefined } | undefined {
    if (producer !== undefined) {
      const table = this.#tables[partition]!;
      const check = table.check(producer);
      switch (check.kind) {
        case 'duplicate':
          this.duplicates += 1;
          confirm?.(undefined, partition, check.offset, true);
          return undefined;
        case 'in_flight': {
          // Rare: only a retry racing its original pays for a key.
          this.duplicates += 1;
          const key = stampKey(partition, producer);
          const waiters = this.#waitingStamps.get(key);
          if (waiters === undefined) this.#waitingStamps.set(key, confirm === undefined ? [] : [confirm]);
          else if (confirm !== undefined) waiters.push(confirm);
          return undefined;
        }
        case 'new':
          return {
            confirm: (error, stored, offset) => {
              if (error === undefined) table.stored(producer, offset);
              else table.failed(producer);
              if (this.#waitingStamps.size > 0) {
                const key = stampKey(partition, producer);
                const waiters = this.#waitingStamps.get(key);
                if (waiters !== undefined) {
                  this.#waitingStamps.delete(key);
                  for (const waiter of waiters) waiter(error, stored, offset, error === undefined);
                }
              }
              confirm?.(error, stored, offset, false);
            },
          };
      }
    }
    const window = this.#window;
    if (window === undefined) return { confirm };
    const hit = window.find(message.id, this.#clock.nowMs());
    if (hit !== undefined) {
      this.duplicates += 1;
      confirm?.(undefined, hit.partition, hit.offset, true);
      return undefined;
    }
    const key = `m:${message.id}`;
    if (this.#waiting.has(key)) {
      this.duplicates += 1;
      this.#wait(key, confirm);
      return undefined;
    }
    this.#waiting.set(key, []);
    return {
      confirm: (error, stored, offset) => {
        if (error === undefined) window.add(message.id, this.#clock.nowMs(), stored, offset);
        this.#settleWaiting(key, error, stored, offset);
        confirm?.(error, stored, offset, false);
      },
    };
  }

  /**
   * Before a compaction run (`compact` streams): writes one partition's producer table durably
   * as its snapshot, covering the log below `nextOffset` (the partition's confirmed end: every
   * batch below it is in the table). A run may remove a producer's last batches, from which a
   * rebuild after a crash would otherwise learn its last sequence; with this snapshot the
   * rebuild reads only the batches from `nextOffset` on, which the caller keeps from the run.
   * Returns that offset, or undefined for a stream without a directory (nothing survives a
   * restart there). Resolves once the snapshot and the log below `nextOffset` are durable.
   */
  async saveSnapshotBeforeCompaction(partition: number, nextOffset: number): Promise<number | undefined> {
    const directory = this.#directory;
    if (directory === undefined) return undefined;
    const table = this.#tables[partition]!;
    // No producer has stamped a batch below nextOffset since open (nor in a snapshot restored
    // then): a run cannot take away what a rebuild would need, so no snapshot is needed.
    if (table.size === 0) return nextOffset;
    const log = this.#logs[partition]!;
    const snapshot: Snapshot = { nextOffset, producers: table.export() };
    // The snapshot is trusted only when the log reaches its nextOffset after a crash.
    await log.flush();
    await writeSnapshot(snapshotPath(directory, partition), snapshot);
    return nextOffset;
  }

  /** Writes each partition's producer table next to the logs (clean close, appends drained). */
  async close(): Promise<void> {
    const directory = this.#directory;
    if (directory === undefined) return;
    for (const [partition, log] of this.#logs.entries()) {
      const table = this.#tables[partition]!;
      const target = snapshotPath(directory, partition);
      if (table.size === 0) {
        await fs.rm(target, { force: true });
        continue;
      }
      await writeSnapshot(target, { nextOffset: log.nextOffset, producers: table.export() });
    }
  }

  #wait(key: string, confirm: DedupConfirm | undefined): void {
    if (confirm !== undefined) this.#waiting.get(key)?.push(confirm);
  }

  #settleWaiting(key: string, error: Error | undefined, partition: number, offset: number): void {
    const waiters = this.#waiting.get(key) ?? [];
    this.#waiting.delete(key);
    for (const waiter of waiters) waiter(error, partition, offset, error === undefined);
  }

  async #rebuildWindow(logs: readonly Log[], window: MessageIdWindow): Promise<void> {
    const fromMs = this.#clock.nowMs() - window.windowMs;
    const found: { timeMs: number; id: string; partition: number; offset: number }[] = [];
    for (const [partition, log] of logs.entries()) {
      const from = await log.offsetForTimestamp(fromMs);
      await scan(log, from, (batch) => {
        for (const record of batch.records()) {
          if (record.timestampMs <= fromMs) continue;
          found.push({
            timeMs: record.timestampMs,
            id: decodeMessage(record.value).id,
            partition,
            offset: record.offset,
          });
          if (found.length > window.capacity * 2) {
            found.sort((left, right) => left.timeMs - right.timeMs);
            found.splice(0, found.length - window.capacity);
          }
        }
      });
    }
    found.sort((left, right) => left.timeMs - right.timeMs);
    for (const entry of found.slice(-window.capacity)) {
      window.add(entry.id, entry.timeMs, entry.partition, entry.offset);
    }
  }
}

async function scan(
  log: Log,
  fromOffset: number,
  visit: (batch: Awaited<ReturnType<Log['read']>>[number]) => void,
): Promise<void> {
  let from = Math.max(fromOffset, log.startOffset);
  while (from < log.nextOffset) {
    const batches = await log.read(Offset(from), readBytes);
    if (batches.length === 0) return;
    for (const batch of batches) {
      if (batch.lastOffset >= from) visit(batch);
      from = batch.lastOffset + 1;
    }
  }
}

/**
 * Writes a snapshot durably: a temporary file fsynced, renamed over the old snapshot, the
 * directory fsynced. Once a compaction run relied on a snapshot, a later one that a power loss
 * could leave empty would send the next open back to batches the run removed.
 */
async function writeSnapshot(target: string, snapshot: Snapshot): Promise<void> {
  const temporary = `${target}.tmp`;
  const handle = await fs.open(temporary, 'w');
  try {
    await handle.writeFile(JSON.stringify(snapshot));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, target);
  const directory = await fs.open(path.dirname(target), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

async function readSnapshot(file: string): Promise<Snapshot | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Snapshot;
    if (typeof parsed.nextOffset === 'number' && Array.isArray(parsed.producers)) return parsed;
  } catch {
    // A torn snapshot (crash while writing it is prevented by the rename, but be safe): rescan.
  }
  return undefined;
}
