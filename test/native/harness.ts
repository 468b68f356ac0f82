// A native-protocol broker for tests: a BrokerCore in a temp dir (or memory) and a
// net.Server on 127.0.0.1 port 0 feeding the adapter's handleConnection.

import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SystemClock } from '../../src/common/clock.js';
import { NativeLimits } from '../../src/common/limits.js';
import { silentLogger } from '../../src/common/logger.js';
import type { UserRecord } from '../../src/core/auth.js';
import { UsersAuthenticator } from '../../src/core/auth.js';
import { BrokerCore } from '../../src/core/broker.js';
import type { ProtocolServer } from '../../src/core/protocol-server.js';
import { isLoopbackAddress } from '../../src/core/protocol-server.js';
import { createNativeServer } from '../../src/protocols/native/server.js';

export interface TestBroker {
  readonly core: BrokerCore;
  readonly server: ProtocolServer;
  readonly port: number;
  readonly address: string;
  /** Sockets currently open to the listener. */
  readonly sockets: Set<net.Socket>;
  close(): Promise<void>;
}

export interface TestBrokerOptions {
  readonly dataDir?: string;
  readonly users?: readonly UserRecord[];
  readonly frameBytesMax?: number;
  readonly connectionsMax?: number;
  readonly port?: number;
}

export async function startBroker(options: TestBrokerOptions = {}): Promise<TestBroker> {
  const core = await BrokerCore.open(
    options.dataDir === undefined ? { storage: 'memory' } : { dataDir: options.dataDir },
  );
  const server = createNativeServer({
    core,
    authenticator: new UsersAuthenticator({ users: options.users ?? [] }),
    logger: silentLogger,
    clock: new SystemClock(),
    limits: {
      connectionsMax: options.connectionsMax ?? 1_000,
      frameBytesMax: options.frameBytesMax ?? NativeLimits.frameBytesDefault,
      messageBytesMax: 4 * 1024 * 1024,
    },
    options: {},
  });
  const sockets = new Set<net.Socket>();
  const listener = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const remoteAddress = socket.remoteAddress ?? '';
    server.handleConnection(socket, {
      remoteAddress,
      remotePort: socket.remotePort ?? 0,
      transport: 'tcp',
      loopback: isLoopbackAddress(remoteAddress),
    });
  });
  await new Promise<void>((resolve) => listener.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (listener.address() as net.AddressInfo).port;
  return {
    core,
    server,
    port,
    address: `127.0.0.1:${port}`,
    sockets,
    async close() {
      await new Promise<void>((resolve) => {
        listener.close(() => resolve());
        void server.close();
      });
      await core.close();
    },
  };
}

export async function tempDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'weir-native-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Waits (polling the event loop, not sleeping on a timer for logic) until `condition` holds. */
export async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
