// The MQTT adapter's state streams are compacted (core-state.ts): many updates of one
// retained topic leave the retained stream bounded, not one record per update, and the latest
// retained message is what a new subscriber and a restarted broker see.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { ManualClock } from '../../src/common/clock.js';
import { BrokerCore } from '../../src/core/broker.js';
import { startBroker } from './helpers.js';

const segmentBytesMax = 4096;

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function retainedOf(url: string, topic: string): Promise<string> {
  const client = await mqtt.connectAsync(url, { clientId: `reader-${Math.random()}`, reconnectPeriod: 0 });
  try {
    const received = new Promise<string>((resolve) => {
      client.on('message', (_topic, payload, packet) => {
        if (packet.retain) resolve(payload.toString());
      });
    });
    await client.subscribeAsync(topic, { qos: 1 });
    return await received;
  } finally {
    await client.endAsync();
  }
}

test('the retained stream stays bounded under many updates of one topic, and keeps the latest', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'weir-mqtt-compaction-'));
  const clock = new ManualClock(Date.now());
  let core = await BrokerCore.open({ dataDir, segmentBytesMax, clock });
  let broker = await startBroker(core);
  try {
    const publisher = await mqtt.connectAsync(broker.url, { clientId: 'publisher', reconnectPeriod: 0 });
    const sizes: number[] = [];
    let last = '';
    for (let round = 0; round < 5; round++) {
      for (let update = 0; update < 100; update++) {
        last = `reading ${round}-${update} ${'.'.repeat(150)}`;
        await publisher.publishAsync('sensors/one', last, { qos: 1, retain: true });
      }
      await until(
        () => (core.streamInfo('mqtt-retained').partitions[0]?.nextOffset ?? 0) >= (round + 1) * 100,
        'retained stored',
      );
      const before = core.streamInfo('mqtt-retained').bytes;
      clock.advance(30_000);
      await until(() => core.streamInfo('mqtt-retained').bytes < before, `round ${round} compacted`);
      sizes.push(core.streamInfo('mqtt-retained').bytes);
    }
    await publisher.endAsync();
    // 500 updates of ~200 bytes were written; what stays is the active segment and a few
    // records, the same after every round.
    for (const size of sizes)
      assert.ok(size < 2 * segmentBytesMax, `retained stream size ${size} is bounded`);
    assert.equal(core.streamInfo('mqtt-retained').config.retention, 'compact');
    assert.equal(core.streamInfo('mqtt-sessions').config.retention, 'compact');
    assert.equal(await retainedOf(broker.url, 'sensors/one'), last);

    await broker.close();
    await core.close();
    core = await BrokerCore.open({ dataDir, segmentBytesMax, clock });
    broker = await startBroker(core);
    assert.equal(await retainedOf(broker.url, 'sensors/one'), last, 'the latest survives a restart');
  } finally {
    await broker.close();
    await core.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
