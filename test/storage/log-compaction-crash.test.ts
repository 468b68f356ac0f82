// Crash test of compaction (compaction-swap.ts): a child process appends keyed records with
// fsync `always` while it compacts the log in a loop; the parent kills it with SIGKILL at a
// random moment, reopens the log, and checks that no temporary file of an interrupted run is
// left, that offsets only grow, and that nothing confirmed is lost: for every key, the
// latest confirmed record (or one written after it) is there, byte for byte at its offset.
// Many rounds on one log, with small segments so that kills land inside runs; in every
// other round the child kills itself at a random step of a swap's file renames and removals.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { openFileLog } from '../../src/storage/file-log.js';
import { readRecords } from './log-compaction-contract.js';

const rounds = 20;
const appenders = 4;
const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'crash-compactor.js');
const root = await fs.mkdtemp(path.join(os.tmpdir(), 'weir-compaction-crash-'));
after(() => fs.rm(root, { recursive: true, force: true }));

interface Confirmed {
  readonly key: string;
  readonly offset: number;
  readonly value: string;
}

/**
 * Runs the child until it is killed: by the parent `killAfterMs` after it is ready, or by
 * itself at its `killAtFileStep`-th file rename or removal (0: not).
 */
function runAndKill(
  directory: string,
  round: number,
  killAfterMs: number,
  killAtFileStep: number,
): Promise<{ confirmed: Confirmed[]; compactions: number }> {
  return new Promise((resolve, reject) => {
    const process = spawn(
      globalThis.process.execPath,
      [child, directory, String(round), String(appenders), String(killAtFileStep)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    let timer: NodeJS.Timeout | undefined;
    process.stdout.setEncoding('utf8');
    process.stdout.on('data', (chunk: string) => {
      output += chunk;
      if (timer === undefined && output.includes('ready')) {
        timer = setTimeout(() => process.kill('SIGKILL'), killAfterMs);
      }
    });
    process.on('error', reject);
    process.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') {
        reject(
          new Error(`child ended by itself (code ${code}, signal ${signal}):\n${output.slice(0, 2000)}`),
        );
        return;
      }
      const confirmed: Confirmed[] = [];
      let compactions = 0;
      const lines = output.split('\n');
      lines.pop(); // A last line without its newline was cut by the kill.
      for (const line of lines) {
        const [kind, key, offset, value] = line.split(' ');
        if (kind === 'compacted') compactions++;
        if (kind !== 'confirmed') continue;
        confirmed.push({ key: key!, offset: Number(offset), value: value ?? '' });
      }
      resolve({ confirmed, compactions });
    });
  });
}

test(`compaction: confirmed records survive SIGKILL during compaction (${rounds} rounds)`, async (context) => {
  const directory = path.join(root, 'log');
  const latestConfirmed = new Map<string, Confirmed>();
  let compactions = 0;
  let interruptedRuns = 0;
  for (let round = 0; round < rounds; round++) {
    // Odd rounds: the child kills itself inside a swap's renames and removals.
    const killAtFileStep = round % 2 === 1 ? 1 + Math.floor(Math.random() * 12) : 0;
    const killAfterMs = killAtFileStep > 0 ? 2_000 : 20 + Math.floor(Math.random() * 200);
    const result = await runAndKill(directory, round, killAfterMs, killAtFileStep);
    compactions += result.compactions;
    for (const confirmed of result.confirmed) {
      const previous = latestConfirmed.get(confirmed.key);
      if (previous === undefined || previous.offset < confirmed.offset)
        latestConfirmed.set(confirmed.key, confirmed);
    }

    const temporary = (await fs.readdir(directory)).filter(
      (name) => name.endsWith('.cleaned') || name.startsWith('compaction.swap'),
    );
    if (temporary.length > 0) interruptedRuns++;
    const log = await openFileLog(directory, { fsync: { kind: 'always' }, segmentBytesMax: 8 * 1024 });
    const leftovers = (await fs.readdir(directory)).filter(
      (name) => name.endsWith('.cleaned') || name.startsWith('compaction.swap'),
    );
    assert.deepEqual(leftovers, [], `round ${round}: recovery removed or applied every temporary file`);
    const records = await readRecords(log);
    const byKey = new Map<string, { offset: number; value: string }>();
    let previousOffset = -1;
    for (const record of records) {
      assert.ok(record.offset > previousOffset, `round ${round}: offsets grow (${record.offset})`);
      previousOffset = record.offset;
      byKey.set(record.key!.toString(), { offset: record.offset, value: record.value.toString() });
    }
    for (const [key, confirmed] of latestConfirmed) {
      const stored = byKey.get(key);
      assert.ok(stored !== undefined, `round ${round}: key ${key} is gone`);
      assert.ok(
        stored.offset >= confirmed.offset,
        `round ${round}: key ${key} went back from ${confirmed.offset} to ${stored.offset}`,
      );
      if (stored.offset === confirmed.offset) {
        assert.equal(stored.value, confirmed.value, `round ${round}: key ${key} at ${stored.offset} differs`);
      }
    }
    await log.close();
  }
  context.diagnostic(`${compactions} runs, ${interruptedRuns} rounds killed inside a run`);
  assert.ok(latestConfirmed.size > 10, `the child confirmed appends (${latestConfirmed.size} keys)`);
  assert.ok(compactions > 3, `the child compacted (${compactions} runs)`);
  assert.ok(interruptedRuns > 2, `kills landed inside runs (${interruptedRuns} rounds)`);
});
