import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '../../src/client/index.js';
import { NativeLimits } from '../../src/common/limits.js';
import { startBroker, tempDir, until } from './harness.js';
import { RawConnection } from './raw-connection.js';

test('a consumer that stops reading costs disk, not broker memory, however much credit it grants', async () => {
  const temp = await tempDir();
  const broker = await startBroker({ dataDir: temp.dir });
  const producer = await connect({ servers: broker.address });
  try {
    await producer.admin.addStream({ name: 'firehose', subjects: ['firehose'], fsync: { kind: 'never' } });
    await producer.admin.addConsumer('firehose', { name: 'slow', maxAckPending: 1_000_000 });
    const slow = await RawConnection.open(broker.port);
    slow.send({
      kind: 'attach',
      requestId: 1,
      subscriptionId: 1,
      stream: 'firehose',
      consumer: 'slow',
      credit: 1_000,
      creditOnAck: false,
    });
    await slow.next((frame) => frame.kind === 'ok');
    // The consumer stops reading its socket but keeps granting credit, as a broken client might.
    slow.socket.pause();
    const grants = setInterval(
      () => slow.send({ kind: 'credit', requestId: 0, subscriptionId: 1, credit: 5_000 }),
      5,
    );

    const body = Buffer.alloc(1024, 7);
    const total = 40_000;
    const heapBeforeBytes = process.memoryUsage().heapUsed;
    for (let index = 0; index < total; index++) {
      if (!producer.publish('firehose', body)) await producer.drained();
    }
    await until(() => broker.core.streamInfo('firehose').messages === total, 'all stored', 20_000);
    clearInterval(grants);
    // Give the broker time to push whatever it would push.
    await new Promise((resolve) => setTimeout(resolve, 300));

    const delivered = broker.core.consumerInfo('firehose', 'slow').delivered;
    const serverSocket = [...broker.sockets].reduce((largest, socket) =>
      socket.writableLength > largest.writableLength ? socket : largest,
    );
    const bufferedBytes = serverSocket.writableLength;
    const heapGrowthBytes = process.memoryUsage().heapUsed - heapBeforeBytes;
    // Deliveries stop at what the socket took before it stopped draining, plus at most one credit window.
    assert.ok(delivered < total / 2, `delivered ${delivered} of ${total} to a consumer that reads nothing`);
    assert.ok(
      bufferedBytes <= (NativeLimits.creditMax + 2_000) * 1_200,
      `the broker buffers ${bufferedBytes} bytes for the slow consumer`,
    );
    assert.ok(heapGrowthBytes < 200 * 1024 * 1024, `heap grew by ${heapGrowthBytes} bytes`);

    // Once it reads again, it gets everything.
    slow.socket.resume();
    slow.send({ kind: 'credit', requestId: 0, subscriptionId: 1, credit: 10_000 });
    await until(
      () => broker.core.consumerInfo('firehose', 'slow').delivered >= Math.min(total, delivered + 5_000),
      'delivery resumes',
      10_000,
    );
    slow.socket.destroy();
  } finally {
    await producer.close();
    await broker.close();
    await temp.remove();
  }
});
