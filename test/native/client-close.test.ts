import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '../../src/client/index.js';
import { startBroker, until } from './harness.js';

// close() and drained(0) right after fire-and-forget publishes must finish once the socket
// has drained, not when the request timeout fires.
test(
  'drained(0) and close() after fire-and-forget publishes end when the socket drains',
  { timeout: 10_000 },
  async () => {
    const broker = await startBroker();
    const requestTimeoutMs = 20_000;
    const client = await connect({ servers: broker.address, requestTimeoutMs, reconnect: false });
    try {
      await until(() => broker.sockets.size === 1, 'the broker to see the connection');
      const [serverSide] = [...broker.sockets];
      // The broker stops reading for a while, so the client's socket buffer fills up.
      serverSide?.pause();
      const body = Buffer.alloc(100, 0x61);
      let sent = 0;
      while (client.publish('nowhere', body)) sent++;
      for (let index = 0; index < 50_000; index++) if (client.publish('nowhere', body)) sent++;
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(client.pendingBytes > 0 || sent > 0);
      const started = Date.now();
      setTimeout(() => serverSide?.resume(), 200);
      await client.drained(0);
      await client.close();
      const elapsedMs = Date.now() - started;
      assert.ok(elapsedMs < requestTimeoutMs / 4, `drained(0) and close() took ${elapsedMs} ms`);
    } finally {
      await client.close();
      await broker.close();
    }
  },
);
