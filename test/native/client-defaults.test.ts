import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import type { NetworkClient } from '../../src/client/index.js';
import { connect } from '../../src/client/index.js';
import { defaultPort, parseConnectOptions } from '../../src/client/options.js';
import { defaultPorts } from '../../src/server/options.js';
import { startBroker } from './harness.js';

test('the client defaults to the port the server and docs/protocol.md use', () => {
  assert.equal(defaultPort, defaultPorts.native);
  assert.deepEqual(parseConnectOptions().servers, [{ host: '127.0.0.1', port: defaultPorts.native }]);
  assert.deepEqual(parseConnectOptions({ servers: 'broker.example' }).servers, [
    { host: 'broker.example', port: defaultPorts.native },
  ]);
});

test('connect() with no servers reaches a broker on the default port', async (context) => {
  // The default port is fixed, so another process on this machine may hold it.
  const free = await new Promise<boolean>((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(defaultPorts.native, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
  if (!free) {
    context.skip(`127.0.0.1:${defaultPorts.native} is in use`);
    return;
  }
  const broker = await startBroker({ port: defaultPorts.native });
  let client: NetworkClient | undefined;
  try {
    client = await connect({ reconnect: false, connectTimeoutMs: 2_000 });
    assert.equal(client.connected, true);
    assert.deepEqual(await client.admin.listStreams(), []);
  } finally {
    await client?.close();
    await broker.close();
  }
});
