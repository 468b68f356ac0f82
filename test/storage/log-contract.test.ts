import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openFileLog } from '../../src/storage/file-log.js';
import type { LogOptions } from '../../src/storage/log.js';
import { createMemoryLog } from '../../src/storage/memory-log.js';
import { runCompactionContract } from './log-compaction-contract.js';
import type { LogHarness } from './log-contract.js';
import { runLogContract } from './log-contract.js';

const memoryHarness = {
  name: 'MemoryLog',
  create: async (options: LogOptions) => createMemoryLog(options),
  reopen: undefined,
  dispose: async () => {},
};
runLogContract(memoryHarness);
runCompactionContract(memoryHarness);

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'weir-log-contract-'));
let logCount = 0;
const directories = new Map<object, string>();
const fileHarness: LogHarness = {
  name: 'FileLog',
  create: async (options) => {
    const directory = path.join(root, `log-${logCount++}`);
    const log = await openFileLog(directory, options);
    directories.set(log, directory);
    return log;
  },
  reopen: async (log, options) => {
    await log.close();
    const directory = directories.get(log)!;
    const reopened = await openFileLog(directory, options);
    directories.set(reopened, directory);
    return reopened;
  },
  dispose: () => fs.rm(root, { recursive: true, force: true }),
};
runCompactionContract(fileHarness);
runLogContract(fileHarness);
