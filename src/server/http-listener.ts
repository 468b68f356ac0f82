// The HTTP listener: `/healthz`, a JSON 404 for every other path, and the WebSocket
// endpoints of the protocols that have one (`/mqtt`, `/stomp`). An upgrade on a route is
// accepted with `ws`, its subprotocol negotiated, and the socket wrapped by
// `createWebSocketStream`, so the adapter sees the same Duplex it gets from TCP.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, type WebSocket, WebSocketServer } from 'ws';
import { ErrorCode } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { isLoopbackAddress, type ProtocolServer } from '../core/protocol-server.js';
import type { WebSocketRoute } from './protocols.js';

export interface HttpRoute {
  readonly route: WebSocketRoute;
  readonly server: ProtocolServer;
}

export interface HttpListenerOptions {
  readonly routes: readonly HttpRoute[];
  readonly logger: Logger;
  /** Largest WebSocket message accepted (the frame limit of the protocols behind it). */
  readonly messageBytesMax: number;
  /** The body of `GET /healthz`; `status` other than `ok` answers 503. */
  readonly health: () => { readonly status: string } & Readonly<Record<string, unknown>>;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}

/** Answers an upgrade request that will not become a WebSocket, then closes the socket. */
function refuseUpgrade(socket: Duplex, status: number, reason: string, body: unknown): void {
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'connection: close\r\n' +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

function offeredSubprotocols(request: IncomingMessage): string[] {
  const header = request.headers['sec-websocket-protocol'];
  if (header === undefined) return [];
  return header
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export class HttpListener {
  readonly server: Server;
  readonly #routes = new Map<string, { route: HttpRoute; sockets: WebSocketServer }>();
  readonly #logger: Logger;
  readonly #health: HttpListenerOptions['health'];

  constructor(options: HttpListenerOptions) {
    this.#logger = options.logger;
    this.#health = options.health;
    for (const route of options.routes) {
      const preferred = route.route.subprotocols;
      const sockets = new WebSocketServer({
        noServer: true,
        maxPayload: options.messageBytesMax,
        // RFC 6455 §4.2.2: the server picks one of the offered subprotocols; we pick by our
        // own preference (for STOMP: the newest version the client speaks).
        handleProtocols: (offered) => preferred.find((name) => offered.has(name)) ?? false,
      });
      this.#routes.set(route.route.path, { route, sockets });
    }
    this.server = createServer((request, response) => this.#onRequest(request, response));
    this.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(request, socket, head),
    );
    this.server.on('clientError', (error, socket) => {
      this.#logger.debug('bad HTTP request', { error: error.message });
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  #onRequest(request: IncomingMessage, response: ServerResponse): void {
    const path = pathOf(request);
    if (path === '/healthz') {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.setHeader('allow', 'GET, HEAD');
        sendJson(response, 405, {
          error: { code: ErrorCode.NotSupported, message: `${request.method} is not allowed on /healthz` },
        });
        return;
      }
      const health = this.#health();
      sendJson(response, health.status === 'ok' ? 200 : 503, health);
      return;
    }
    const route = this.#routes.get(path);
    if (route !== undefined) {
      response.setHeader('upgrade', 'websocket');
      sendJson(response, 426, {
        error: {
          code: ErrorCode.ProtocolError,
          message: `${path} is a WebSocket endpoint (subprotocols: ${route.route.route.subprotocols.join(', ')})`,
        },
      });
      return;
    }
    sendJson(response, 404, {
      error: { code: ErrorCode.NotFound, message: `no resource at ${request.method ?? 'GET'} ${path}` },
    });
  }

  #onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (error) =>
      this.#logger.debug('WebSocket upgrade socket error', { error: error.message }),
    );
    const path = pathOf(request);
    const entry = this.#routes.get(path);
    if (entry === undefined) {
      refuseUpgrade(socket, 404, 'Not Found', {
        error: { code: ErrorCode.NotFound, message: `no WebSocket endpoint at ${path}` },
      });
      return;
    }
    const offered = offeredSubprotocols(request);
    const supported = entry.route.route.subprotocols;
    if (offered.length > 0 && !offered.some((name) => supported.includes(name))) {
      refuseUpgrade(socket, 400, 'Bad Request', {
        error: {
          code: ErrorCode.ProtocolError,
          message: `${path} speaks the subprotocols ${supported.join(', ')}; the client offered ${offered.join(', ')}`,
        },
      });
      return;
    }
    entry.sockets.handleUpgrade(request, socket, head, (webSocket: WebSocket) => {
      const stream = createWebSocketStream(webSocket);
      stream.on('error', (error) => this.#logger.debug('WebSocket stream error', { error: error.message }));
      const raw = request.socket as Socket;
      const remoteAddress = raw.remoteAddress ?? '';
      const server = entry.route.server;
      try {
        server.handleConnection(stream, {
          remoteAddress,
          remotePort: raw.remotePort ?? 0,
          transport: 'websocket',
          loopback: isLoopbackAddress(remoteAddress),
        });
      } catch (error) {
        this.#logger.error('protocol adapter threw from handleConnection', {
          protocol: server.name,
          error: (error as Error).message,
        });
        stream.destroy();
      }
    });
  }

  /** Ends WebSocket connections the adapters left open, and idle and active HTTP connections. */
  destroyConnections(): void {
    for (const { sockets } of this.#routes.values()) {
      for (const client of sockets.clients) client.terminate();
    }
    this.server.closeAllConnections();
  }

  /** Stops accepting; resolves when the listening socket and all connections are closed. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      for (const { sockets } of this.#routes.values()) sockets.close();
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }
}
