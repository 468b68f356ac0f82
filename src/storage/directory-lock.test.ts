import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ErrorCode, isWeirError } from '../common/errors.js';
import { DirectoryLock } from './directory-lock.js';

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'weir-lock-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a data directory is locked once; release frees it', async () => {
  await withTempDir(async (dir) => {
    const lock = await DirectoryLock.acquire(dir);
    assert.equal((await readFile(path.join(dir, 'LOCK'), 'utf8')).trim(), String(process.pid));
    await assert.rejects(DirectoryLock.acquire(dir), (error) =>
      isWeirError(error, ErrorCode.DataDirectoryLocked),
    );
    await lock.release();
    const again = await DirectoryLock.acquire(dir);
    await again.release();
  });
});

test('a lock held by another running process is refused, naming the process', async () => {
  await withTempDir(async (dir) => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      assert.ok(holder.pid !== undefined);
      await writeFile(path.join(dir, 'LOCK'), `${holder.pid}\n`);
      await assert.rejects(
        DirectoryLock.acquire(dir),
        (error) =>
          isWeirError(error, ErrorCode.DataDirectoryLocked) && error.message.includes(String(holder.pid)),
      );
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

test('a stale lock left by a process that no longer runs is taken over', async () => {
  await withTempDir(async (dir) => {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    await writeFile(path.join(dir, 'LOCK'), `${gone.stdout}\n`);
    const lock = await DirectoryLock.acquire(dir);
    assert.equal((await readFile(path.join(dir, 'LOCK'), 'utf8')).trim(), String(process.pid));
    await lock.release();
  });
});
