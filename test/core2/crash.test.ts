// SIGKILL crash tests for core II: delayed delivery, idempotent producers, and exactly-once
// processing with transactions. Each runs a real broker in a child process
// (fixtures/core2-worker.ts), kills it with SIGKILL at random moments, and checks the data
// directory afterwards with a broker in this process.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Delivery } from '../../src/core/api.js';
import { BrokerCore } from '../../src/core/broker.js';

const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'core2-worker.js');
const root = await fs.mkdtemp(path.join(os.tmpdir(), 'weir-core2-crash-'));
after(() => fs.rm(root, { recursive: true, force: true }));

function randomBetween(low: number, high: number): number {
  return low + Math.floor(Math.random() * (high - low));
}

/**
 * Runs the worker, kills it `killAfterMs` after it is ready, or once it has said `committed`
 * `killAfterCommits` times (the kill then lands somewhere in the work that follows), or once
 * it says `done`; returns its complete lines.
 */
function runAndKill(args: string[], killAfterMs: number, killAfterCommits = Infinity): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      if (timer === undefined && output.includes('ready\n')) {
        timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
      if (output.includes('done\n') || output.split('committed\n').length - 1 >= killAfterCommits) {
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') {
        reject(new Error(`worker ended by itself (code ${code}):\n${output.slice(0, 2000)}`));
        return;
      }
      const lines = output.split('\n');
      lines.pop(); // A last line without its newline was cut by the kill.
      resolve(lines);
    });
  });
}

async function drain(
  core: BrokerCore,
  stream: string,
  consumer: string,
  until: (received: readonly Delivery[]) => boolean,
): Promise<Delivery[]> {
  const session = core.openSession();
  const received: Delivery[] = [];
  const deadline = Date.now() + 10_000;
  // The broker's timers are unref'd (they never hold a process open): keep this one alive.
  const keepAlive = setInterval(() => undefined, 1_000);
  try {
    while (!until(received) && Date.now() < deadline) {
      const batch = await session.fetch(stream, consumer, { batch: 500, expiresMs: 200 });
      for (const delivery of batch) {
        received.push(delivery);
        session.ack(delivery);
      }
    }
  } finally {
    clearInterval(keepAlive);
  }
  return received;
}

test('delayed messages confirmed before a SIGKILL are all delivered, none before their time', async () => {
  const dataDir = path.join(root, 'delayed');
  let core = await BrokerCore.open({ dataDir });
  await core.addStream({ name: 'jobs', subjects: ['jobs'], retention: 'workqueue' });
  await core.addConsumer('jobs', { name: 'worker' });
  await core.close();
  const confirmed = new Map<string, number>();
  for (let round = 0; round < 3; round++) {
    const lines = await runAndKill(['delayed', dataDir, String(round)], randomBetween(200, 700));
    for (const line of lines) {
      const [kind, body, dueMs] = line.split(' ');
      if (kind === 'confirmed' && body !== undefined) confirmed.set(body, Number(dueMs));
    }
  }
  assert.ok(confirmed.size > 10, `the worker confirmed ${confirmed.size} delayed messages`);
  core = await BrokerCore.open({ dataDir });
  try {
    const received = await drain(core, 'jobs', 'worker', (soFar) => {
      const seen = new Set(soFar.map((delivery) => delivery.message.body.toString()));
      return [...confirmed.keys()].every((body) => seen.has(body));
    });
    const missing = [...confirmed.keys()].filter(
      (body) => !received.some((d) => d.message.body.toString() === body),
    );
    assert.deepEqual(missing, [], 'every confirmed delayed message is delivered');
    for (const delivery of received) {
      const due = delivery.message.deliverAfterMs ?? 0;
      assert.ok(delivery.message.timestampMs < due, 'it was delayed');
    }
  } finally {
    await core.close();
  }
});

test('an idempotent producer retrying after SIGKILLs stores each sequence exactly once', async () => {
  const dataDir = path.join(root, 'dedup');
  let core = await BrokerCore.open({ dataDir });
  await core.addStream({ name: 'stamped', subjects: ['stamped'] });
  await core.addConsumer('stamped', { name: 'reader' });
  const { producerId } = await core.openSession().initProducer();
  await core.close();
  let lastConfirmed = -1;
  let duplicates = 0;
  for (let round = 0; round < 4; round++) {
    // Resend the last two confirmed sequences too: they must be answered as duplicates.
    const from = Math.max(0, lastConfirmed - 1);
    const lines = await runAndKill(
      ['dedup', dataDir, producerId.toString(), String(from)],
      randomBetween(150, 500),
    );
    for (const line of lines) {
      const [kind, sequence, , duplicate] = line.split(' ');
      if (kind !== 'confirmed') continue;
      lastConfirmed = Math.max(lastConfirmed, Number(sequence));
      if (duplicate === 'true') duplicates += 1;
    }
  }
  assert.ok(lastConfirmed > 20, `the worker confirmed up to sequence ${lastConfirmed}`);
  assert.ok(duplicates > 0, 'some retries were answered as duplicates');
  core = await BrokerCore.open({ dataDir });
  try {
    const stored = core.streamInfo('stamped').messages;
    const received = await drain(core, 'stamped', 'reader', (soFar) => soFar.length >= stored);
    const sequences = received.map((delivery) => Number(delivery.message.body.toString().slice(4)));
    assert.deepEqual(
      sequences,
      Array.from({ length: sequences.length }, (_, index) => index),
      'sequences 0, 1, 2, … each exactly once, in order',
    );
    assert.ok(sequences.length >= lastConfirmed + 1, 'every confirmed sequence is stored');
  } finally {
    await core.close();
  }
});

test('exactly-once: consume, produce and ack in transactions; SIGKILLs leave each input in the output once', async (t) => {
  const dataDir = path.join(root, 'exactly-once');
  const inputs = 400;
  let core = await BrokerCore.open({ dataDir });
  await core.addStream({ name: 'in', subjects: ['in'], retention: 'workqueue' });
  await core.addStream({ name: 'out', subjects: ['out'] });
  await core.addConsumer('in', { name: 'processor', ackWaitMs: 60_000 });
  await core.addConsumer('out', { name: 'checker' });
  const session = core.openSession();
  for (let index = 0; index < inputs; index++)
    await session.publishConfirmed({ subject: 'in', body: `input-${index}` });
  await core.close();
  let done = false;
  let rounds = 0;
  while (!done && rounds < 40) {
    rounds += 1;
    // Killed after 1 to 9 committed transactions of the 40, so every round but the last is
    // cut short however fast the machine is.
    const lines = await runAndKill(['process', dataDir], 60_000, randomBetween(1, 10));
    done = lines.includes('done');
  }
  assert.ok(done, `the processor finished within ${rounds} rounds`);
  assert.ok(rounds > 1, 'it was killed at least once before finishing');
  t.diagnostic(`finished after ${rounds} runs, ${rounds - 1} of them killed by SIGKILL mid-work`);
  core = await BrokerCore.open({ dataDir });
  try {
    const stored = core.streamInfo('out').messages;
    const received = await drain(core, 'out', 'checker', (soFar) => soFar.length >= stored);
    const outputs = received.map((delivery) => delivery.message.body.toString()).sort();
    const expected = Array.from({ length: inputs }, (_, index) => `input-${index}`).sort();
    assert.deepEqual(outputs, expected, 'each input exactly once in the output');
  } finally {
    await core.close();
  }
});
