import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ErrorCode, isWeirError } from '../../src/common/errors.js';
import { BrokerCore } from '../../src/core/broker.js';

test('a second broker on the same data directory is refused until the first closes', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'weir-core-lock-'));
  try {
    const first = await BrokerCore.open({ dataDir });
    await first.addStream({ name: 'orders', subjects: ['orders.>'] });
    await assert.rejects(BrokerCore.open({ dataDir }), (error) =>
      isWeirError(error, ErrorCode.DataDirectoryLocked),
    );
    await first.close();
    const second = await BrokerCore.open({ dataDir });
    assert.deepEqual(
      second.listStreams().map((info) => info.config.name),
      ['orders'],
    );
    await second.close();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
