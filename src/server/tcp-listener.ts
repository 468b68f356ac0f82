// A TCP listener for one protocol: accepts connections and hands each socket to the
// protocol's adapter. It keeps the set of open sockets only so shutdown can destroy what an
// adapter failed to close within the grace period.

import { createServer, type Server, type Socket } from 'node:net';
import { ErrorCode, WeirError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { isLoopbackAddress, type ProtocolServer } from '../core/protocol-server.js';

export class TcpListener {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #protocol: ProtocolServer;
  readonly #logger: Logger;
  readonly #socketClosed: (this: Socket) => void;
  readonly #socketFailed: (this: Socket, error: Error) => void;

  constructor(protocol: ProtocolServer, logger: Logger) {
    this.#protocol = protocol;
    this.#logger = logger;
    this.#server = createServer({ noDelay: true, keepAlive: true }, (socket) => this.#onConnection(socket));
    // Listeners shared by every socket of this listener (the socket is `this`), rather than
    // closures made per connection: an idle connection should cost little memory. The peer's
    // address stays readable after close (Node keeps what it read at accept).
    const sockets = this.#sockets;
    this.#socketClosed = function (this: Socket): void {
      sockets.delete(this);
      logger.debug('connection closed', { remoteAddress: this.remoteAddress, remotePort: this.remotePort });
    };
    this.#socketFailed = function (this: Socket, error: Error): void {
      logger.debug('connection error', {
        remoteAddress: this.remoteAddress,
        remotePort: this.remotePort,
        error: error.message,
      });
    };
  }

  #onConnection(socket: Socket): void {
    const remoteAddress = socket.remoteAddress ?? '';
    const remotePort = socket.remotePort ?? 0;
    this.#sockets.add(socket);
    this.#logger.debug('connection accepted', { remoteAddress, remotePort });
    socket.on('close', this.#socketClosed);
    // A reset before the adapter attaches its own listener must not crash the broker.
    socket.on('error', this.#socketFailed);
    try {
      this.#protocol.handleConnection(socket, {
        remoteAddress,
        remotePort,
        transport: 'tcp',
        loopback: isLoopbackAddress(remoteAddress),
      });
    } catch (error) {
      this.#logger.error('protocol adapter threw from handleConnection', { error: (error as Error).message });
      socket.destroy();
    }
  }

  /** Binds; resolves with the bound port (the chosen one when `port` is 0). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        reject(
          new WeirError(
            ErrorCode.ListenFailed,
            `${this.#protocol.name} cannot listen on ${host}:${port}: ${error.code ?? error.message}`,
            { cause: error },
          ),
        );
      };
      this.#server.once('error', onError);
      this.#server.listen({ host, port }, () => {
        this.#server.off('error', onError);
        this.#server.on('error', (error) => this.#logger.error('listener error', { error: error.message }));
        const address = this.#server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  get connectionCount(): number {
    return this.#sockets.size;
  }

  /** Stops accepting new connections (open ones stay, for the adapter to close). */
  stopAccepting(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) {
        resolve();
        return;
      }
      // close() calls back only once every connection has ended; the caller does not wait for that here.
      this.#server.close();
      resolve();
    });
  }

  /** Destroys connections still open (after the adapter's close, or its grace period). */
  destroyConnections(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }
}
