import { createMemoryLog } from '../../src/storage/memory-log.js';
import { runLogContract } from './log-contract.js';

runLogContract({
  name: 'MemoryLog',
  create: async (options) => createMemoryLog(options),
  reopen: undefined,
  dispose: async () => {},
});
