// Where the delay index keeps its bucket logs: one Log per bucket, so that a bucket whose
// entries are all released is reclaimed by deleting it whole. Files live in the stream's
// directory under `delay/<bucket>/` (FileLog); memory streams use MemoryLogs.

import fs from 'node:fs';
import path from 'node:path';
import type { Log, LogOptions } from '../../storage/log.js';
import { openFileLog } from '../../storage/file-log.js';
import { createMemoryLog } from '../../storage/memory-log.js';

export interface DelayStore {
  /** Names of the bucket logs present. */
  list(): Promise<string[]>;
  open(name: string): Promise<Log>;
  /** Closes the bucket log and deletes it. */
  remove(name: string, log: Log): Promise<void>;
}

const deletedSuffix = '.deleted';

/** Bucket logs as FileLogs under `directory`. A deletion cut short by a crash is finished on list. */
export function fileDelayStore(directory: string, options: LogOptions = {}): DelayStore {
  return {
    async list() {
      await fs.promises.mkdir(directory, { recursive: true });
      const names = await fs.promises.readdir(directory);
      const live: string[] = [];
      for (const name of names) {
        if (name.endsWith(deletedSuffix)) {
          await fs.promises.rm(path.join(directory, name), { recursive: true, force: true });
        } else {
          live.push(name);
        }
      }
      return live;
    },
    open(name) {
      return openFileLog(path.join(directory, name), options);
    },
    async remove(name, log) {
      await log.close();
      // Renamed first, so that a crash halfway through the deletion leaves nothing that looks
      // like a bucket (a half-deleted bucket would otherwise be reopened with entries missing).
      const from = path.join(directory, name);
      const to = from + deletedSuffix;
      await fs.promises.rename(from, to);
      await fs.promises.rm(to, { recursive: true, force: true });
    },
  };
}

/** Bucket logs in memory, for `storage: memory` streams and tests; nothing survives close. */
export function memoryDelayStore(options: LogOptions = {}): DelayStore {
  return {
    list: () => Promise.resolve([]),
    open: () => Promise.resolve(createMemoryLog(options)),
    remove: (_name, log) => log.close(),
  };
}
