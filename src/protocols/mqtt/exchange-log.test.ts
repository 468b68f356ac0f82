import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { BrokerCore } from '../../core/broker.js';
import type { CoreSession } from '../../core/api.js';
import { ExchangeLog, exchangeStream } from './exchange-log.js';
import type { ExchangeRecord } from './exchange-log.js';

async function withLog(
  dataDir: string,
  compactRecords: number,
  work: (log: ExchangeLog, core: BrokerCore, loaded: ExchangeRecord[]) => Promise<void>,
): Promise<void> {
  const core = await BrokerCore.open({ dataDir });
  let session: CoreSession | undefined;
  const log = new ExchangeLog(core, () => (session ??= core.openSession()), compactRecords);
  try {
    const loaded = await log.load();
    await work(
      log,
      core,
      loaded.map((handle) => handle.record),
    );
  } finally {
    await log.close();
    await session?.close();
    await core.close();
  }
}

const inbound = (clientId: string, packetId: number): ExchangeRecord => ({
  kind: 'inbound',
  clientId,
  packetId,
});

test('open exchanges are read back after a restart; ended ones are not', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'weir-exchange-log-'));
  try {
    await withLog(dataDir, 1000, async (log, _core, loaded) => {
      assert.deepEqual(loaded, []);
      await log.hold(inbound('a', 1));
      const ended = await log.hold(inbound('a', 2));
      await log.hold({ kind: 'release', clientId: 'b', packetId: 9, origin: undefined });
      log.end(ended);
    });
    await withLog(dataDir, 1000, async (_log, _core, loaded) => {
      assert.deepEqual(
        loaded.map((record) => `${record.kind}/${record.clientId}`),
        ['inbound/a', 'release/b'],
      );
    });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('ended exchanges leave the stream; one left open is written again at the tail (compaction)', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'weir-exchange-log-'));
  try {
    await withLog(dataDir, 40, async (log, core) => {
      const pinned = await log.hold(inbound('stays', 1));
      const firstOffset = pinned.offset;
      for (let index = 0; index < 100; index++) log.end(await log.hold(inbound('passes', index + 2)));
      await log.settled();
      assert.ok(pinned.offset > firstOffset, 'the long-open record moved to the tail');
      // Everything below the moved record is acked: the stream keeps only what is still open.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const [floor] = core.consumerInfo(exchangeStream, 'open-exchanges').ackFloors;
      assert.ok((floor ?? 0) > firstOffset, `ack floor ${String(floor)} past ${firstOffset}`);
      assert.ok(core.streamInfo(exchangeStream).messages < 40, 'acked records are deleted');
    });
    await withLog(dataDir, 40, async (_log, _core, loaded) => {
      assert.deepEqual(loaded, [inbound('stays', 1)]);
    });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('two copies of one record (a compaction cut short) load as one', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'weir-exchange-log-'));
  try {
    await withLog(dataDir, 1000, async (log) => {
      await log.hold(inbound('twice', 5));
      await log.hold(inbound('twice', 5));
    });
    await withLog(dataDir, 1000, async (_log, _core, loaded) => {
      assert.deepEqual(loaded, [inbound('twice', 5)]);
    });
    await withLog(dataDir, 1000, async (_log, _core, loaded) => {
      assert.deepEqual(loaded, [inbound('twice', 5)], 'the extra copy was acked');
    });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
