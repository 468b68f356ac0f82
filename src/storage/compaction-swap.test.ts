import assert from 'node:assert/strict';
import syncFs from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CorruptLogError } from '../common/errors.js';
import { cleanedPath, commitSwap, recoverSwap, swapManifestName } from './compaction-swap.js';
import { segmentFileName } from './log-segment.js';

async function directoryWith(files: Record<string, string>): Promise<string> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'weir-compaction-swap-'));
  for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(directory, name), text);
  return directory;
}

async function contents(directory: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const name of (await fs.readdir(directory)).sort()) {
    result[name] = await fs.readFile(path.join(directory, name), 'utf8');
  }
  return result;
}

const name = (base: number, kind: 'log' | 'index' | 'timeindex'): string => segmentFileName(base, kind);
const cleaned = (base: number, kind: 'log' | 'index' | 'timeindex'): string =>
  path.basename(cleanedPath('.', base, kind));

test('recovery rolls back a swap that did not commit: temporary files go, old segments stay', async () => {
  const directory = await directoryWith({
    [name(0, 'log')]: 'old 0',
    [name(0, 'index')]: 'old index 0',
    [name(7, 'log')]: 'old 7',
    [cleaned(0, 'log')]: 'new 0',
    [cleaned(0, 'index')]: 'new index 0',
    'compaction.swap.tmp': '{"version":1,"removed":[0,7],"added":[0]}',
  });
  try {
    assert.equal(recoverSwap(directory), 'rolled back');
    assert.deepEqual(await contents(directory), {
      [name(0, 'index')]: 'old index 0',
      [name(0, 'log')]: 'old 0',
      [name(7, 'log')]: 'old 7',
    });
    assert.equal(recoverSwap(directory), undefined, 'nothing left to do');
  } finally {
    await fs.rm(directory, { recursive: true, force: true });
  }
});

test('recovery completes a committed swap, however far applying it had got', async () => {
  for (const applied of ['nothing', 'index renamed', 'all renamed']) {
    const files: Record<string, string> = {
      [name(0, 'log')]: 'old 0',
      [name(3, 'log')]: 'old 3',
      [name(9, 'log')]: 'old 9',
      [name(12, 'log')]: 'active 12',
      [cleaned(2, 'log')]: 'new 2',
      [cleaned(2, 'index')]: 'new index 2',
      [cleaned(2, 'timeindex')]: 'new time 2',
      [cleaned(9, 'log')]: 'new 9',
      [cleaned(9, 'index')]: 'new index 9',
      [cleaned(9, 'timeindex')]: 'new time 9',
      [swapManifestName]: '{"version":1,"removed":[0,3,9],"added":[2,9]}',
    };
    if (applied !== 'nothing') {
      delete files[cleaned(9, 'index')];
      files[name(9, 'index')] = 'new index 9';
    }
    if (applied === 'all renamed') {
      for (const base of [2, 9]) {
        for (const kind of ['log', 'index', 'timeindex'] as const) {
          delete files[cleaned(base, kind)];
          files[name(base, kind)] =
            kind === 'log' ? `new ${base}` : `new ${kind === 'index' ? 'index' : 'time'} ${base}`;
        }
      }
      delete files[name(0, 'log')];
    }
    const directory = await directoryWith(files);
    try {
      assert.equal(recoverSwap(directory), 'completed', applied);
      assert.deepEqual(
        await contents(directory),
        {
          [name(2, 'index')]: 'new index 2',
          [name(2, 'log')]: 'new 2',
          [name(2, 'timeindex')]: 'new time 2',
          [name(9, 'index')]: 'new index 9',
          [name(9, 'log')]: 'new 9',
          [name(9, 'timeindex')]: 'new time 9',
          [name(12, 'log')]: 'active 12',
        },
        applied,
      );
    } finally {
      await fs.rm(directory, { recursive: true, force: true });
    }
  }
});

test('a committed manifest that does not parse is corruption, not ignored', async () => {
  const directory = await directoryWith({ [swapManifestName]: '{"version":1,"removed":[0]' });
  try {
    assert.throws(() => recoverSwap(directory), CorruptLogError);
  } finally {
    await fs.rm(directory, { recursive: true, force: true });
  }
});

/**
 * Runs `work` with the `failAt`-th file system change (rename, removal, write) failing as a
 * crash would stop it there; returns whether it got that far.
 */
function crashingAt(failAt: number, work: () => void): boolean {
  const originals = { renameSync: syncFs.renameSync, rmSync: syncFs.rmSync, writeSync: syncFs.writeSync };
  let changes = 0;
  const crash = <F extends (...args: never[]) => unknown>(original: F): F =>
    ((...args: Parameters<F>) => {
      if (changes++ === failAt) throw new Error('crash');
      return original(...args);
    }) as F;
  syncFs.renameSync = crash(originals.renameSync);
  syncFs.rmSync = crash(originals.rmSync);
  syncFs.writeSync = crash(originals.writeSync);
  try {
    work();
    return false;
  } catch (error) {
    if ((error as Error).message !== 'crash') throw error;
    return true;
  } finally {
    Object.assign(syncFs, originals);
  }
}

test('a crash at any step of a swap, and again at any step of its recovery, leaves all old or all new segments', async () => {
  // Segments 0, 5 and 9 are compacted into 0 (first batch later, 5 merged in) and 9; 12 is active.
  const before = {
    [name(0, 'log')]: 'old 0',
    [name(0, 'index')]: 'old index 0',
    [name(5, 'log')]: 'old 5',
    [name(5, 'index')]: 'old index 5',
    [name(9, 'log')]: 'old 9',
    [name(12, 'log')]: 'active 12',
  };
  const added = {
    [cleaned(0, 'log')]: 'new 0',
    [cleaned(0, 'index')]: 'new index 0',
    [cleaned(0, 'timeindex')]: 'new time 0',
    [cleaned(9, 'log')]: 'new 9',
    [cleaned(9, 'index')]: 'new index 9',
    [cleaned(9, 'timeindex')]: 'new time 9',
  };
  const after = {
    [name(0, 'index')]: 'new index 0',
    [name(0, 'log')]: 'new 0',
    [name(0, 'timeindex')]: 'new time 0',
    [name(9, 'index')]: 'new index 9',
    [name(9, 'log')]: 'new 9',
    [name(9, 'timeindex')]: 'new time 9',
    [name(12, 'log')]: 'active 12',
  };
  const outcomes = new Set<string>();
  for (let swapCrash = 0; ; swapCrash++) {
    const directory = await directoryWith({ ...before, ...added });
    try {
      const crashed = crashingAt(swapCrash, () => commitSwap(directory, [0, 5, 9], [0, 9]));
      if (!crashed) {
        assert.deepEqual(await contents(directory), after, 'a swap without a crash');
        break;
      }
      const state = await contents(directory);
      // Recovery may itself crash at any step; the next open recovers again.
      for (let recoveryCrash = 0; ; recoveryCrash++) {
        const copy = await directoryWith(state);
        try {
          const recoveryCrashed = crashingAt(recoveryCrash, () => recoverSwap(copy));
          if (recoveryCrashed) recoverSwap(copy);
          const recovered = await contents(copy);
          const committed = JSON.stringify(recovered) === JSON.stringify(after);
          if (!committed) {
            assert.deepEqual(
              recovered,
              before,
              `crash at change ${swapCrash}, recovery crash at ${recoveryCrash}`,
            );
          }
          outcomes.add(committed ? 'new' : 'old');
          if (!recoveryCrashed) break;
        } finally {
          await fs.rm(copy, { recursive: true, force: true });
        }
      }
    } finally {
      await fs.rm(directory, { recursive: true, force: true });
    }
  }
  assert.deepEqual([...outcomes].sort(), ['new', 'old'], 'crashes both before and after the commit point');
});
