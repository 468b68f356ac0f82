import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NetworkClient } from '../../src/client/index.js';
import { connect } from '../../src/client/index.js';
import { Limits } from '../../src/common/limits.js';
import { startBroker, tempDir, until } from './harness.js';

test('producers faster than the disk are paused, not dropped: every fire-and-forget message is stored', async () => {
  const temp = await tempDir();
  const broker = await startBroker({ dataDir: temp.dir });
  const producers: NetworkClient[] = [];
  const errors: unknown[] = [];
  try {
    for (let index = 0; index < 4; index++) {
      const producer = await connect({ servers: broker.address });
      producer.on('error', (error: unknown) => errors.push(error));
      producers.push(producer);
    }
    const admin = producers[0] as NetworkClient;
    await admin.admin.addStream({ name: 'flood', subjects: ['flood'], fsync: { kind: 'always' } });
    // More than the core's append queue holds, sent as fast as the client allows.
    const perProducer = Math.ceil((Limits.appendQueueMessagesMax * 1.5) / producers.length);
    const body = Buffer.alloc(16, 1);
    await Promise.all(
      producers.map(async (producer) => {
        for (let index = 0; index < perProducer; index++) {
          if (!producer.publish('flood', body)) await producer.drained();
        }
        await producer.drained(0);
      }),
    );
    const total = perProducer * producers.length;
    await until(() => broker.core.streamInfo('flood').messages === total, `${total} stored`, 60_000);
    assert.deepEqual(errors, []);
  } finally {
    for (const producer of producers) await producer.close();
    await broker.close();
    await temp.remove();
  }
});
