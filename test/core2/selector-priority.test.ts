import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, isWeirError } from '../../src/common/errors.js';
import type { Delivery } from '../../src/core/api.js';
import { bodies, openCore, settle, tempDir, until } from '../core/helpers.js';

test('a consumer with a selector receives only what it selects; the rest is settled, not held', async () => {
  const temp = await tempDir();
  let core = await openCore({ dataDir: temp.dir });
  try {
    await core.addStream({ name: 'orders', subjects: ['orders.>'], retention: 'workqueue' });
    await core.addConsumer('orders', {
      name: 'big-eu',
      selector: "region = 'eu' AND amount > 100",
    });
    const session = core.openSession();
    const inputs = [
      { region: 'eu', amount: 500 },
      { region: 'us', amount: 500 },
      { region: 'eu', amount: 5 },
      { region: 'eu' },
      { region: 'eu', amount: 101 },
    ];
    for (const [index, headers] of inputs.entries()) {
      await session.publishConfirmed({ subject: 'orders.new', body: String(index), headers });
    }
    const received: Delivery[] = [];
    session.attach('orders', 'big-eu', { credit: 10, onDelivery: (d) => received.push(d) });
    await until(() => received.length === 2, 'two selected');
    await settle(20);
    assert.deepEqual(bodies(received), ['0', '4']);
    for (const delivery of received) session.ack(delivery);
    await settle(20);
    const info = core.consumerInfo('orders', 'big-eu');
    assert.equal(info.selectorSkipped, 3);
    assert.deepEqual(info.ackFloors, [5], 'unselected messages do not hold the floor back');
    assert.equal(info.config.selector, "region = 'eu' AND amount > 100");
    await core.close();
    // The selector is part of the persisted definition.
    core = await openCore({ dataDir: temp.dir });
    assert.equal(core.consumerInfo('orders', 'big-eu').config.selector, "region = 'eu' AND amount > 100");
  } finally {
    await core.close();
    await temp.remove();
  }
});

test('a bad selector is refused when the consumer is defined, naming the column', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    await core.addStream({ name: 's', subjects: ['s'] });
    await assert.rejects(core.addConsumer('s', { name: 'c', selector: 'amount >> 1' }), (error: unknown) => {
      assert.ok(isWeirError(error, ErrorCode.InvalidSelector));
      assert.match(error.message, /column 9/);
      return true;
    });
  } finally {
    await core.close();
  }
});

test('a shared consumer delivers higher priorities first among available messages, FIFO within one', async () => {
  const core = await openCore({ storage: 'memory' });
  try {
    await core.addStream({ name: 'jobs', subjects: ['jobs'], retention: 'workqueue' });
    await core.addConsumer('jobs', { name: 'worker', dispatch: 'shared' });
    await core.addConsumer('jobs', { name: 'ordered', dispatch: 'exclusive' });
    const session = core.openSession();
    const priorities = [1, 9, 4, 9, 0, 4, 7];
    for (const [index, priority] of priorities.entries()) {
      await session.publishConfirmed({ subject: 'jobs', body: `${priority}:${index}`, priority });
    }
    const received: Delivery[] = [];
    const ordered: Delivery[] = [];
    session.attach('jobs', 'worker', { credit: 100, onDelivery: (d) => received.push(d) });
    session.attach('jobs', 'ordered', { credit: 100, onDelivery: (d) => ordered.push(d) });
    await until(() => received.length === 7 && ordered.length === 7, 'all delivered');
    assert.deepEqual(bodies(received), ['9:1', '9:3', '7:6', '4:2', '4:5', '1:0', '0:4']);
    assert.deepEqual(
      bodies(ordered),
      priorities.map((priority, index) => `${priority}:${index}`),
      'exclusive dispatch keeps log order',
    );
  } finally {
    await core.close();
  }
});
