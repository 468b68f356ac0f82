// A broker core in a temp dir with the STOMP adapter behind a real TCP listener and a real
// WebSocket server (ws, subprotocols v10/v11/v12.stomp), both on 127.0.0.1 port 0.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { SystemClock } from '../../src/common/clock.js';
import { silentLogger } from '../../src/common/logger.js';
import { UsersAuthenticator } from '../../src/core/auth.js';
import { createStompServer } from '../../src/protocols/stomp/index.js';
import type { ProtocolServer } from '../../src/core/protocol-server.js';
import { openTestCore, type TestCore } from './core.js';

export interface StompHarness {
  readonly core: TestCore;
  readonly tcpPort: number;
  readonly wsUrl: string;
  readonly server: ProtocolServer;
  close(): Promise<void>;
}

export const stompSubprotocols = ['v12.stomp', 'v11.stomp', 'v10.stomp'];

export async function startStompHarness(): Promise<StompHarness> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'weir-stomp-test-'));
  const clock = new SystemClock();
  const core = await openTestCore(dataDir, clock);
  const server = createStompServer({
    core: core.core,
    authenticator: new UsersAuthenticator({ users: [] }),
    logger: silentLogger,
    clock,
    limits: { connectionsMax: 1000, frameBytesMax: 8 * 1024 * 1024, messageBytesMax: 4 * 1024 * 1024 },
    options: {},
  });
  const tcp = net.createServer((socket) =>
    server.handleConnection(socket, {
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      transport: 'tcp',
      loopback: true,
    }),
  );
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    path: '/stomp',
    handleProtocols: (offered) => stompSubprotocols.find((protocol) => offered.has(protocol)) ?? false,
  });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  wss.on('connection', (socket, request) =>
    server.handleConnection(createWebSocketStream(socket), {
      remoteAddress: request.socket.remoteAddress ?? '',
      remotePort: request.socket.remotePort ?? 0,
      transport: 'websocket',
      loopback: true,
    }),
  );
  const tcpAddress = tcp.address() as net.AddressInfo;
  const wsAddress = wss.address() as net.AddressInfo;
  return {
    core,
    server,
    tcpPort: tcpAddress.port,
    wsUrl: `ws://127.0.0.1:${wsAddress.port}/stomp`,
    close: async () => {
      await server.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      await core.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
