// The client commands of `weir` against a broker started in this process on port 0: the
// first session of the README (pub/sub), stream and consumer administration, dead letters.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../../src/common/logger.js';
import { type ServerHandle, startServer } from '../../src/server/server.js';
import { runWeir } from './weir-process.js';

describe('weir client commands', () => {
  let directory: string;
  let handle: ServerHandle;
  let server: string[];

  async function weir(...args: string[]): Promise<string> {
    const run = runWeir([...args, ...server]);
    const code = await run.exited;
    assert.equal(code, 0, `weir ${args.join(' ')} failed: ${run.stderr()}`);
    return run.stdout();
  }

  before(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'weir-cli-client-'));
    handle = await startServer(
      {
        dataDir: path.join(directory, 'data'),
        protocols: { native: { port: 0 }, mqtt: { enabled: false }, stomp: { enabled: false } },
        http: { enabled: false },
      },
      { logger: silentLogger },
    );
    server = ['--server', `127.0.0.1:${handle.ports.native}`];
  });

  after(async () => {
    await handle.close();
    await rm(directory, { recursive: true, force: true });
  });

  test('pub reaches a live sub', async () => {
    const subscriber = runWeir(['sub', 'greetings.>', '--count', '1', ...server]);
    // The subscriber is another process: poll until the broker has its live subscription.
    for (let attempt = 0; attempt < 100 && subscriber.stdout() === ''; attempt++) {
      await weir('pub', 'greetings.hello', 'Hello, Weir');
      await sleep(50);
    }
    assert.equal(await subscriber.exited, 0, subscriber.stderr());
    assert.equal(subscriber.stdout(), '[greetings.hello] Hello, Weir\n');
  });

  test('stream and consumer administration, confirmed pub, durable sub with --count', async () => {
    assert.match(
      await weir('stream', 'add', 'ORDERS', '--subjects', 'orders.>', '--fsync', 'never'),
      /stream ORDERS created: subjects orders\.>/,
    );
    assert.match(
      await weir('consumer', 'add', 'ORDERS', 'shipping', '--max-deliver', '2'),
      /consumer shipping created on ORDERS: durable, ack explicit/,
    );
    assert.equal(
      await weir('pub', 'orders.eu.created', '{"id": 1}', '--confirm'),
      'stored in ORDERS partition 0 at offset 0\n',
    );
    assert.equal(
      await weir('pub', 'orders.eu.created', 'second', '--confirm', '--count', '3'),
      '3 messages stored\n',
    );

    const listing = await weir('stream', 'ls');
    assert.match(listing, /^NAME +SUBJECTS +RETENTION +MESSAGES/);
    assert.match(listing, /\nORDERS +orders\.> +limits +4 /);
    const info = JSON.parse(await weir('stream', 'info', 'ORDERS')) as {
      config: { name: string };
      messages: number;
    };
    assert.equal(info.messages, 4);

    assert.equal(
      await weir('sub', '--stream', 'ORDERS', '--consumer', 'shipping', '--count', '2'),
      '[orders.eu.created ORDERS#0] {"id": 1}\n[orders.eu.created ORDERS#1] second\n',
    );
    const json = await weir(
      'sub',
      '--stream',
      'ORDERS',
      '--consumer',
      'shipping',
      '--count',
      '1',
      '--output',
      'json',
    );
    assert.equal(
      (JSON.parse(json) as { offset: number }).offset,
      2,
      'acked messages are not delivered again',
    );
    assert.match(await weir('consumer', 'ls', 'ORDERS'), /\nshipping +> +explicit +shared +1 +0 /);
    const consumer = JSON.parse(await weir('consumer', 'info', 'ORDERS', 'shipping')) as {
      ackFloors: number[];
    };
    assert.deepEqual(consumer.ackFloors, [3]);

    assert.equal(await weir('consumer', 'rm', 'ORDERS', 'shipping'), 'consumer shipping of ORDERS deleted\n');
    assert.equal(await weir('stream', 'rm', 'ORDERS'), 'stream ORDERS deleted\n');

    assert.match(
      await weir(
        'stream',
        'add',
        'STATE',
        '--subjects',
        'state.>',
        '--retention',
        'compact',
        '--tombstone-retention-ms',
        '60000',
        '--compaction-dirty-ratio',
        '0.25',
        '--compaction-interval-ms',
        '5000',
      ),
      /stream STATE created: subjects state\.>, retention compact/,
    );
    const state = JSON.parse(await weir('stream', 'info', 'STATE')) as {
      config: Record<string, unknown>;
    };
    assert.deepEqual(
      [
        state.config.tombstoneRetentionMs,
        state.config.compactionDirtyRatio,
        state.config.compactionIntervalMs,
      ],
      [60_000, 0.25, 5_000],
    );
    assert.equal(await weir('stream', 'rm', 'STATE'), 'stream STATE deleted\n');
    assert.equal(await weir('stream', 'ls'), 'no streams\n');
  });

  test('dlq ls shows dead letters and dlq redrive republishes them', async () => {
    await weir('stream', 'add', 'JOBS', '--subjects', 'jobs.>');
    await weir('consumer', 'add', 'JOBS', 'worker', '--max-deliver', '1', '--ack-wait-ms', '60000');
    await weir('pub', 'jobs.resize', 'image-1', '--confirm');
    // One delivery, rejected for good: dead-lettered.
    const session = handle.core.openSession();
    const [delivery] = await session.fetch('JOBS', 'worker', { batch: 1, expiresMs: 2000 });
    assert.ok(delivery !== undefined);
    session.term(delivery, 'cannot resize');
    await session.close();

    let overview = '';
    for (let attempt = 0; attempt < 50 && !/DLQ/.test(overview); attempt++) {
      overview = await weir('dlq', 'ls');
      if (!/DLQ/.test(overview)) await sleep(20);
    }
    assert.match(overview, /STREAM +DEAD-LETTER STREAM +MESSAGES\nJOBS +\S+ +1/);
    const letters = (await weir('dlq', 'ls', 'JOBS')).trim().split('\n');
    assert.equal(letters.length, 1);
    assert.equal((JSON.parse(letters[0] ?? '') as { body: string }).body, 'image-1');
    assert.match(await weir('dlq', 'redrive', 'JOBS'), /^redrove 1 dead letter from /);
    const again = JSON.parse(await weir('stream', 'info', 'JOBS')) as { messages: number };
    assert.equal(again.messages, 2, 'the redriven message is stored in JOBS again');
  });

  test('an error from the broker exits 1 with its code', async () => {
    const run = runWeir(['stream', 'info', 'NOPE', ...server]);
    assert.equal(await run.exited, 1);
    assert.match(run.stderr(), /WEIR_STREAM_NOT_FOUND/);
  });
});
