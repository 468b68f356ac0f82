// Where a stream's logs live and how they open.
//
// Layout under the data directory:
//   streams/<name>/partitions/<index>/   one FileLog per partition (segments and indexes)
//   streams/<name>/consumers/            the stream's consumer-state log
//   streams/<name>/delay/<bucket>/       the delay index, one small FileLog per time bucket
// `storage: memory` streams, and every stream of a broker without a data directory, use
// MemoryLogs: their messages and consumer state end with the process (their definitions
// persist when there is a data directory).

import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../common/clock.js';
import { Limits } from '../common/limits.js';
import { openFileLog } from '../storage/file-log.js';
import type { Log } from '../storage/log.js';
import { createMemoryLog } from '../storage/memory-log.js';
import type { StreamConfig } from './api.js';
import { type DelayStore, fileDelayStore, memoryDelayStore } from './delay/delay-store.js';

export interface StreamLogs {
  readonly partitions: Log[];
  readonly consumerState: Log;
  /** The delay index's bucket logs (core2: delay/delay-store.ts). */
  readonly delay: DelayStore;
  /** The stream's directory, for small side files (dedup snapshots); undefined in memory. */
  readonly directory: string | undefined;
}

export class StreamStore {
  readonly #dataDir: string | undefined;
  readonly #clock: Clock;
  readonly #segmentBytesMax: number | undefined;

  constructor(dataDir: string | undefined, clock: Clock, segmentBytesMax: number | undefined) {
    this.#dataDir = dataDir;
    this.#clock = clock;
    this.#segmentBytesMax = segmentBytesMax;
  }

  async open(config: StreamConfig): Promise<StreamLogs> {
    const directory = this.#directory(config);
    const partitions: Log[] = [];
    // Compaction works on sealed segments only, so a compacted stream rolls sooner.
    const segmentBytesMax =
      config.retention === 'compact'
        ? Math.min(this.#segmentBytesMax ?? Limits.segmentBytesDefault, Limits.compactedSegmentBytesDefault)
        : this.#segmentBytesMax;
    const logOptions = {
      fsync: config.fsync,
      clock: this.#clock,
      ...(segmentBytesMax === undefined ? {} : { segmentBytesMax }),
    };
    try {
      for (let index = 0; index < config.partitions; index++) {
        partitions.push(
          directory === undefined
            ? createMemoryLog(logOptions)
            : await openFileLog(path.join(directory, 'partitions', String(index)), logOptions),
        );
      }
      const stateOptions = {
        fsync: config.fsync,
        clock: this.#clock,
        segmentBytesMax: Limits.consumerStateSegmentBytes,
      };
      const consumerState =
        directory === undefined
          ? createMemoryLog(stateOptions)
          : await openFileLog(path.join(directory, 'consumers'), stateOptions);
      const delayOptions = {
        fsync: config.fsync,
        clock: this.#clock,
        segmentBytesMax: Limits.delaySegmentBytes,
      };
      const delay =
        directory === undefined
          ? memoryDelayStore(delayOptions)
          : fileDelayStore(path.join(directory, 'delay'), delayOptions);
      return { partitions, consumerState, delay, directory };
    } catch (error) {
      for (const log of partitions) await log.close().catch(() => undefined);
      throw error;
    }
  }

  /** Removes a deleted stream's files (its logs must be closed). */
  async remove(config: StreamConfig): Promise<void> {
    const directory = this.#directory(config);
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  }

  #directory(config: StreamConfig): string | undefined {
    if (this.#dataDir === undefined || config.storage === 'memory') return undefined;
    return path.join(this.#dataDir, 'streams', config.name);
  }
}
