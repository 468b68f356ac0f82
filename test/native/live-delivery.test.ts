import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NetworkClient } from '../../src/client/index.js';
import { connect } from '../../src/client/index.js';
import { Limits } from '../../src/common/limits.js';
import type { Frame } from '../../src/protocols/native/codec/index.js';
import { startBroker, until } from './harness.js';
import { RawConnection } from './raw-connection.js';

async function publishAll(client: NetworkClient, subject: string, count: number, bodyBytes: number) {
  const body = Buffer.alloc(bodyBytes, 0x61);
  for (let index = 0; index < count; index++) {
    if (!client.publish(subject, body)) await client.drained();
  }
  await client.drained(0);
}

test('a live subscriber that keeps up receives every message of a burst its buffer can hold', async () => {
  const broker = await startBroker();
  const subscriber = await connect({ servers: broker.address });
  const publisher = await connect({ servers: broker.address });
  try {
    const total = Limits.liveBufferMessagesMax;
    let received = 0;
    const subscription = subscriber.subscribe('burst', {
      bufferMessagesMax: total,
      callback: () => {
        received++;
      },
    });
    // Requests on one connection are handled in order: an answer proves the subscription exists.
    await subscriber.admin.listStreams();
    await publishAll(publisher, 'burst', total, 100);
    await until(() => received === total, `${total} messages (have ${received})`, 30_000);
    assert.equal(subscription.dropped, 0);
  } finally {
    await publisher.close();
    await subscriber.close();
    await broker.close();
  }
});

test('a live subscriber that does not read is told how many messages the broker dropped', async () => {
  const broker = await startBroker();
  const raw = await RawConnection.open(broker.port);
  const publisher = await connect({ servers: broker.address });
  try {
    raw.send({
      kind: 'subscribeLive',
      requestId: 1,
      subscriptionId: 7,
      filter: 'flood',
      noLocal: false,
      bufferMessagesMax: 100,
    });
    await raw.next((frame) => frame.kind === 'ok' && frame.requestId === 1);
    // More than loopback buffers hold, so the broker's writes stop draining.
    raw.socket.pause();
    const total = 20_000;
    await publishAll(publisher, 'flood', total, 1024);
    raw.socket.resume();
    let messages = 0;
    let dropped = 0;
    const count = (frame: Frame): boolean => {
      if (frame.kind !== 'liveDeliver') return false;
      messages += frame.messages.length;
      dropped += frame.droppedCount ?? 0;
      return true;
    };
    while (messages + dropped < total) await raw.next(count, 10_000);
    assert.equal(messages + dropped, total);
    assert.ok(dropped > 0, 'the slow subscriber lost messages');
    assert.ok(messages < total);
  } finally {
    await publisher.close();
    raw.socket.destroy();
    await broker.close();
  }
});
