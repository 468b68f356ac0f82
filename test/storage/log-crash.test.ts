// Crash test (DESIGN.md §3: a confirmed message survives kill -9 under `always`): a child
// process appends with fsync `always` and reports each confirmed append; the parent kills it
// with SIGKILL at a random moment, reopens the log, and checks that every record ever
// confirmed is there byte for byte at its offset, and that new appends work. Many rounds on
// one log, with small segments so that kills also land around rolls.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { Offset } from '../../src/common/branded.js';
import { openFileLog } from '../../src/storage/file-log.js';
import type { BatchInput, Log, LogRecord } from '../../src/storage/log.js';
import { crashBatch } from './fixtures/crash-records.js';

const rounds = 24;
const appenders = 8;
const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'crash-appender.js');
const root = await fs.mkdtemp(path.join(os.tmpdir(), 'weir-log-crash-'));
after(() => fs.rm(root, { recursive: true, force: true }));

interface Confirmed {
  readonly baseOffset: number;
  readonly batch: BatchInput;
}

/** Runs the child until a random moment after it is ready, kills it, returns its confirms. */
function runAndKill(directory: string, round: number, killAfterMs: number): Promise<Confirmed[]> {
  return new Promise((resolve, reject) => {
    const process = spawn(globalThis.process.execPath, [child, directory, String(round), String(appenders)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
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
      const lines = output.split('\n');
      lines.pop(); // A last line without its newline was cut by the kill.
      for (const line of lines) {
        const [kind, appender, sequence, baseOffset, count] = line.split(' ');
        if (kind !== 'confirmed') continue;
        const batch = crashBatch(Number(appender), Number(sequence));
        assert.equal(batch.records.length, Number(count));
        confirmed.push({ baseOffset: Number(baseOffset), batch });
      }
      resolve(confirmed);
    });
  });
}

async function recordsByOffset(log: Log): Promise<Map<number, LogRecord>> {
  const records = new Map<number, LogRecord>();
  let offset: number = log.startOffset;
  for (;;) {
    const batches = await log.read(Offset(offset), 1 << 20);
    if (batches.length === 0) return records;
    for (const batch of batches) {
      for (const record of batch.records()) {
        assert.equal(record.offset, offset, 'records come in offset order without gaps');
        records.set(record.offset, record);
        offset++;
      }
    }
  }
}

test(`confirmed appends survive SIGKILL (${rounds} rounds)`, async () => {
  const directory = path.join(root, 'log');
  const confirmed: Confirmed[] = [];
  let totalConfirmedInRounds = 0;
  for (let round = 0; round < rounds; round++) {
    const killAfterMs = 5 + Math.floor(Math.random() * 150);
    const fresh = await runAndKill(directory, round, killAfterMs);
    totalConfirmedInRounds += fresh.length;
    confirmed.push(...fresh);

    const log = await openFileLog(directory, {
      fsync: { kind: 'always' },
      segmentBytesMax: 64 * 1024,
      indexIntervalBytes: 512,
    });
    const stored = await recordsByOffset(log);
    for (const { baseOffset, batch } of confirmed) {
      batch.records.forEach((expected, index) => {
        const record = stored.get(baseOffset + index);
        assert.ok(record !== undefined, `round ${round}: confirmed offset ${baseOffset + index} is missing`);
        assert.ok(
          record.value.equals(expected.value as Buffer),
          `round ${round}: value at ${baseOffset + index} differs`,
        );
        assert.deepEqual(record.key, expected.key, `round ${round}: key at ${baseOffset + index} differs`);
      });
    }
    const probe: BatchInput = { records: [{ value: Buffer.from(`parent after round ${round}`) }] };
    const appended = await log.append(probe);
    assert.equal(appended.baseOffset, log.nextOffset - 1);
    confirmed.push({ baseOffset: appended.baseOffset, batch: probe });
    await log.close();
  }
  assert.ok(totalConfirmedInRounds > rounds * 5, `the child confirmed appends (${totalConfirmedInRounds})`);
});
