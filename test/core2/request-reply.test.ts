import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { ErrorCode, isWeirError } from '../../src/common/errors.js';
import type { Delivery } from '../../src/core/api.js';
import { openCore, settle, tempDir, until } from '../core/helpers.js';

test('request resolves with the reply sent to its inbox', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    const server = core.openSession();
    server.subscribeLive('math.double', {
      onMessage: (message) => {
        const value = Number(message.body.toString());
        server.publish({
          subject: message.replyTo ?? 'nowhere',
          body: String(value * 2),
          ...(message.correlationId === undefined ? {} : { correlationId: message.correlationId }),
        });
      },
    });
    const client = core.openSession();
    const [four, six] = await Promise.all([
      client.request('math.double', '2', { timeoutMs: 1_000 }),
      client.request('math.double', '3', { timeoutMs: 1_000, headers: { trace: 'x' } }),
    ]);
    assert.equal(four.body.toString(), '4');
    assert.equal(six.body.toString(), '6');
    assert.match(four.subject, /^\$INBOX\.[0-9a-f]{32}\.\d+$/);
    assert.equal(four.correlationId, four.subject, 'the correlation id defaults to the reply subject');
  } finally {
    await core.close();
  }
});

test('no responders fails at once; silence times out on the clock; closing fails waiters', async () => {
  const clock = new ManualClock();
  const core = await openCore({ storage: 'memory', clock });
  try {
    const client = core.openSession();
    await assert.rejects(client.request('nobody.home', 'x', { timeoutMs: 1_000 }), (error: unknown) =>
      isWeirError(error, ErrorCode.NoResponders),
    );
    core.openSession().subscribeLive('silent', { onMessage: () => undefined });
    const waiting = client.request('silent', 'x', { timeoutMs: 1_000 });
    clock.advance(999);
    await settle();
    clock.advance(1);
    await assert.rejects(waiting, (error: unknown) => isWeirError(error, ErrorCode.Timeout));
    const orphan = client.request('silent', 'x', { timeoutMs: 1_000 });
    await client.close();
    await assert.rejects(orphan, (error: unknown) => isWeirError(error, ErrorCode.Closed));
    assert.throws(
      () => core.openSession().request('silent', 'x', { timeoutMs: 0 }),
      (error: unknown) => isWeirError(error, ErrorCode.InvalidArgument),
    );
  } finally {
    await core.close();
  }
});

test('a request to a queue is answered by its consumer', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    await core.addStream({ name: 'rpc', subjects: ['rpc'], retention: 'workqueue' });
    await core.addConsumer('rpc', { name: 'workers' });
    const worker = core.openSession();
    worker.attach('rpc', 'workers', {
      credit: 10,
      onDelivery: (delivery: Delivery) => {
        worker.publish({
          subject: delivery.message.replyTo ?? 'x',
          body: `done:${delivery.message.body.toString()}`,
        });
        worker.ack(delivery);
      },
    });
    const reply = await core.openSession().request('rpc', 'job', { timeoutMs: 5_000 });
    assert.equal(reply.body.toString(), 'done:job');
  } finally {
    await core.close();
  }
});

test('temporary queues and topics belong to their session and go with it', async () => {
  const temp = await tempDir();
  let core = await openCore({ dataDir: temp.dir });
  try {
    const owner = core.openSession();
    const queue = await owner.createTemporaryQueue();
    const topic = owner.createTemporaryTopic();
    assert.match(queue.subject, /^\$TMPQ\./);
    assert.match(topic, /^\$INBOX\./);
    const other = core.openSession();
    await other.publishConfirmed({ subject: queue.subject, body: 'reply' });
    const fetched = await owner.fetch(queue.stream, queue.consumer, { batch: 10, expiresMs: 1_000 });
    assert.deepEqual(
      fetched.map((delivery) => delivery.message.body.toString()),
      ['reply'],
    );
    const heard: string[] = [];
    owner.subscribeLive(topic, { onMessage: (message) => heard.push(message.body.toString()) });
    other.publish({ subject: topic, body: 'event' });
    await until(() => heard.length === 1, 'the temporary topic event');
    assert.ok(core.listStreams().some((stream) => stream.config.name === queue.stream));
    await owner.close();
    await until(() => !core.listStreams().some((stream) => stream.config.name === queue.stream), 'deleted');
    await assert.rejects(other.publishConfirmed({ subject: queue.subject, body: 'late' }), (error: unknown) =>
      isWeirError(error, ErrorCode.NoStream),
    );
    // A temporary queue never outlives the broker either.
    await core.openSession().createTemporaryQueue();
    await core.close();
    core = await openCore({ dataDir: temp.dir });
    assert.deepEqual(core.listStreams(), []);
  } finally {
    await core.close();
    await temp.remove();
  }
});
