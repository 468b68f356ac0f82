// How compacted segments replace the old ones on disk, so that a crash at any moment leaves
// either every old segment or every new one, never a mix and never a loss (DESIGN.md §3).
//
// 1. Write: each new segment goes to temporary files `<base>.log.cleaned`,
//    `<base>.index.cleaned` and `<base>.timeindex.cleaned` beside the log's segments
//    (compacted-segment-file.ts), each fsynced. The old segments are not touched.
// 2. Commit: the manifest `compaction.swap.tmp` is written and fsynced, renamed to
//    `compaction.swap`, and the directory fsynced. That rename is the commit point. The
//    manifest is JSON: `{"version":1,"removed":[bases],"added":[bases]}`, the base offsets
//    of the segments replaced and of those replacing them (a new base may equal an old one).
// 3. Apply: every `.cleaned` file of an added base is renamed over its final name (indexes
//    before the log), then the files of each removed base that is not also added are
//    deleted; the directory is fsynced, the manifest deleted, the directory fsynced again
//    (so that an old manifest can never be replayed over a later compaction).
//
// Recovery, when a log opens (before it lists its segments): a `compaction.swap` means the
// swap committed, and step 3 is done again (each part of it can run twice); otherwise any
// `.cleaned` files and `compaction.swap.tmp` are left over from a run that did not commit,
// and are deleted. Old and new segments never share a file: a new segment whose base equals
// an old one replaces the old file by rename, which is atomic.

import fs from 'node:fs';
import path from 'node:path';
import { CorruptLogError } from '../common/errors.js';
import { segmentFileName } from './log-segment.js';

export const swapManifestName = 'compaction.swap';
const swapManifestTemporaryName = 'compaction.swap.tmp';
const cleanedSuffix = '.cleaned';
const manifestVersion = 1;

type SegmentFileKind = 'log' | 'index' | 'timeindex';

export function syncDirectory(directory: string): void {
  const fd = fs.openSync(directory, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The temporary file a new segment's `kind` file is written to. */
export function cleanedPath(directory: string, baseOffset: number, kind: SegmentFileKind): string {
  return path.join(directory, segmentFileName(baseOffset, kind) + cleanedSuffix);
}

/**
 * Commits and applies a swap whose new segments are complete and fsynced as `.cleaned`
 * files. Synchronous: the caller swaps its in-memory segments in the same turn.
 */
export function commitSwap(directory: string, removed: readonly number[], added: readonly number[]): void {
  const temporary = path.join(directory, swapManifestTemporaryName);
  const fd = fs.openSync(temporary, 'w');
  try {
    fs.writeSync(fd, JSON.stringify({ version: manifestVersion, removed, added }));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, path.join(directory, swapManifestName));
  syncDirectory(directory);
  applySwap(directory, removed, added);
}

function applySwap(directory: string, removed: readonly number[], added: readonly number[]): void {
  for (const baseOffset of added) {
    for (const kind of ['index', 'timeindex', 'log'] as const) {
      const cleaned = cleanedPath(directory, baseOffset, kind);
      if (fs.existsSync(cleaned))
        fs.renameSync(cleaned, path.join(directory, segmentFileName(baseOffset, kind)));
    }
  }
  const kept = new Set(added);
  for (const baseOffset of removed) {
    if (kept.has(baseOffset)) continue;
    for (const kind of ['log', 'index', 'timeindex'] as const) {
      fs.rmSync(path.join(directory, segmentFileName(baseOffset, kind)), { force: true });
    }
  }
  syncDirectory(directory);
  fs.rmSync(path.join(directory, swapManifestName), { force: true });
  syncDirectory(directory);
}

/** Abandons new segments that were not committed: removes their `.cleaned` files. */
export function removeCleaned(directory: string, baseOffset: number): void {
  for (const kind of ['log', 'index', 'timeindex'] as const) {
    fs.rmSync(cleanedPath(directory, baseOffset, kind), { force: true });
  }
}

/**
 * Finishes or rolls back a swap a crash interrupted (see the module header). Returns what
 * it did, undefined when there was nothing to do.
 */
export function recoverSwap(directory: string): 'completed' | 'rolled back' | undefined {
  const manifestPath = path.join(directory, swapManifestName);
  let text: string | undefined;
  try {
    text = fs.readFileSync(manifestPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text !== undefined) {
    const { removed, added } = parseManifest(manifestPath, text);
    applySwap(directory, removed, added);
    return 'completed';
  }
  let leftovers = 0;
  for (const name of fs.readdirSync(directory)) {
    if (name === swapManifestTemporaryName || name.endsWith(cleanedSuffix)) {
      fs.rmSync(path.join(directory, name), { force: true });
      leftovers++;
    }
  }
  if (leftovers === 0) return undefined;
  syncDirectory(directory);
  return 'rolled back';
}

function parseManifest(file: string, text: string): { removed: number[]; added: number[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const manifest = parsed as { version?: unknown; removed?: unknown; added?: unknown } | undefined;
  const bases = (value: unknown): value is number[] =>
    Array.isArray(value) && value.every((base) => Number.isSafeInteger(base) && (base as number) >= 0);
  // The manifest was fsynced before it got its name, so a bad one is not a torn write.
  if (manifest?.version !== manifestVersion || !bases(manifest.removed) || !bases(manifest.added)) {
    throw new CorruptLogError(file, 0, 'compaction swap manifest is not valid');
  }
  return { removed: manifest.removed, added: manifest.added };
}
