// A real `weir serve` process keeps what it accepted across a SIGTERM: messages confirmed
// under fsync `never` (so only shutdown's flush makes them durable), the stream and consumer
// definitions, and the consumer's acks are all there when the data directory is reopened.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { connect } from '../../src/client/network-client.js';
import { BrokerCore } from '../../src/core/broker.js';
import { runWeir, waitForPorts, type WeirProcess } from './weir-process.js';

let directory: string;
let weir: WeirProcess | undefined;

before(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'weir-serve-data-'));
});

after(async () => {
  if (weir !== undefined && weir.child.exitCode === null && weir.child.signalCode === null)
    weir.child.kill('SIGKILL');
  await rm(directory, { recursive: true, force: true });
});

test('SIGTERM flushes confirmed messages, definitions and acks; the process exits 0', async () => {
  const dataDir = path.join(directory, 'data');
  const portsFile = path.join(directory, 'ports.json');
  weir = runWeir([
    'serve',
    '--data-dir',
    dataDir,
    '--native-port',
    '0',
    '--disable',
    'mqtt,stomp,http',
    '--ports-file',
    portsFile,
  ]);
  const ports = await waitForPorts(portsFile, weir);
  assert.deepEqual(Object.keys(ports), ['native']);

  const client = await connect({ servers: `127.0.0.1:${ports.native}`, reconnect: false });
  await client.admin.addStream({ name: 'ORDERS', subjects: ['orders.>'], fsync: { kind: 'never' } });
  await client.admin.addConsumer('ORDERS', { name: 'shipping', durable: true, ackPolicy: 'explicit' });
  const total = 200;
  const confirms = [];
  for (let index = 0; index < total; index++)
    confirms.push(client.publishConfirmed(`orders.${index}`, `order ${index}`));
  await Promise.all(confirms);
  const acked = 50;
  const fetched = await client.fetch(
    { stream: 'ORDERS', consumer: 'shipping' },
    { batch: acked, expiresMs: 2000 },
  );
  assert.equal(fetched.length, acked);
  for (const message of fetched) await message.ackConfirmed();
  await client.close();

  weir.child.kill('SIGTERM');
  assert.equal(await weir.exited, 0, weir.stderr());

  const core = await BrokerCore.open({ dataDir });
  try {
    const stream = core.streamInfo('ORDERS');
    assert.equal(stream.messages, total);
    const consumer = core.consumerInfo('ORDERS', 'shipping');
    assert.equal(consumer.config.durable, true);
    assert.deepEqual(consumer.ackFloors, [acked]);
    assert.equal(consumer.pending, total - acked);
  } finally {
    await core.close();
  }
});
