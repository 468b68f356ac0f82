// One broker process per data directory. Two processes appending to the same segment files
// would interleave batches and corrupt both logs, so opening a data directory takes a lock
// file, `<dir>/LOCK`, holding the owner's process id.
//
// Node has no portable flock(), so the lock is a file created with O_EXCL. A lock left by a
// process that no longer runs (a broker killed with SIGKILL) is stale and is taken over. If
// the operating system has since given that process id to an unrelated process, the lock
// looks held; the error names the file, and removing it by hand is then safe.

import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, WeirError } from '../common/errors.js';

/** Directories this process holds, so a second open from the same process is refused too. */
const heldByThisProcess = new Set<string>();

export class DirectoryLock {
  readonly #file: string;
  readonly #dir: string;
  #released = false;

  private constructor(dir: string, file: string) {
    this.#dir = dir;
    this.#file = file;
  }

  static async acquire(dir: string): Promise<DirectoryLock> {
    const resolved = path.resolve(dir);
    await mkdir(resolved, { recursive: true });
    const file = path.join(resolved, 'LOCK');
    if (heldByThisProcess.has(resolved)) throw lockedError(resolved, process.pid);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const handle = await open(file, 'wx');
        try {
          await handle.writeFile(`${process.pid}\n`);
        } finally {
          await handle.close();
        }
        heldByThisProcess.add(resolved);
        return new DirectoryLock(resolved, file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = await readOwner(file);
      if (owner !== undefined && owner !== process.pid && isRunning(owner))
        throw lockedError(resolved, owner);
      // Stale: its owner is gone (or it is this process's own leftover). Move it aside
      // atomically, so two processes taking over the same stale lock cannot both win.
      const aside = `${file}.stale-${randomUUID()}`;
      try {
        await rename(file, aside);
        await unlink(aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    throw new WeirError(ErrorCode.StorageFailed, `could not take the lock ${file}`);
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    heldByThisProcess.delete(this.#dir);
    await unlink(this.#file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

async function readOwner(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(file, 'utf8')).trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockedError(dir: string, pid: number): WeirError {
  return new WeirError(
    ErrorCode.DataDirectoryLocked,
    `data directory ${dir} is in use by process ${pid} (lock file ${path.join(dir, 'LOCK')})`,
  );
}
