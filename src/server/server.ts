// The composition root: startServer() opens the broker core on the data directory, builds
// one ProtocolServer per enabled protocol from the registry, binds a TCP listener for each
// and the HTTP listener (health and WebSocket endpoints), and returns a handle with the bound
// ports and close().
//
// close() is the graceful shutdown of DESIGN.md: stop accepting on every listener, ask every
// adapter to close its connections (their core sessions close, unacked deliveries return),
// destroy what is left after the grace period, then close the core, which drains pending
// writes and fsyncs. Closing twice returns the same promise.

import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { type Clock, SystemClock } from '../common/clock.js';
import { ErrorCode, WeirError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { type Authenticator, loadUsersFile, UsersAuthenticator } from '../core/auth.js';
import type { ProtocolCore, ProtocolServer } from '../core/protocol-server.js';
import { openBrokerCore } from './core.js';
import { createDuplexPair } from './duplex-pair.js';
import { type HttpRoute, HttpListener } from './http-listener.js';
import { createLogger } from './logging.js';
import {
  parseOptions,
  type ProtocolName,
  protocolNames,
  type ServerOptions,
  type ServerOptionsInput,
} from './options.js';
import { builtInProtocols, type ProtocolDescriptor } from './protocols.js';
import { TcpListener } from './tcp-listener.js';

/** The core as the server holds it: what adapters use, plus close (drain and fsync). */
export interface ServerCore extends ProtocolCore {
  close(): Promise<void>;
}

export interface CoreOpenOptions {
  readonly dataDir: string;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** What startServer() takes besides options: for embedding and tests. */
export interface ServerDependencies {
  /** Adapters to serve; default: every adapter of this build (protocols.ts). */
  readonly protocols?: readonly ProtocolDescriptor[];
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly authenticator?: Authenticator;
  /** Opens the core; default: the broker core on `dataDir`. */
  readonly openCore?: (options: CoreOpenOptions) => Promise<ServerCore>;
}

export interface ServerHandle {
  readonly options: ServerOptions;
  /** Bound ports by listener name (`native`, `mqtt`, `stomp`, `http`, …), once listening. */
  readonly ports: Readonly<Partial<Record<ProtocolName | 'http', number>>>;
  /** Adapters being served, by name. */
  readonly protocols: readonly string[];
  readonly core: ServerCore;
  readonly logger: Logger;
  /** An in-process connection to a protocol's adapter: no socket, same code path. */
  connect(protocol: string): Duplex;
  /** Graceful shutdown; resolves once the core has flushed. Idempotent. */
  close(): Promise<void>;
}

interface Served {
  readonly descriptor: ProtocolDescriptor;
  readonly server: ProtocolServer;
}

async function writePortsFile(file: string, ports: Record<string, number>): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  await writeFile(temporary, `${JSON.stringify({ pid: process.pid, ports })}\n`);
  await rename(temporary, file);
}

function selectProtocols(
  options: ServerOptions,
  registry: readonly ProtocolDescriptor[],
  logger: Logger,
): ProtocolDescriptor[] {
  const byName = new Map(registry.map((descriptor) => [descriptor.name, descriptor]));
  for (const name of protocolNames) {
    const listener = options.protocols[name];
    if (byName.has(name)) continue;
    if (listener.enabled === true) {
      throw new WeirError(ErrorCode.NotSupported, `protocols.${name}: this build has no ${name} adapter yet`);
    }
    if (listener.enabled === undefined)
      logger.debug('no adapter in this build; not listening', { protocol: name });
  }
  return registry.filter((descriptor) => {
    const known = (protocolNames as readonly string[]).includes(descriptor.name);
    return !known || options.protocols[descriptor.name as ProtocolName].enabled !== false;
  });
}

export async function startServer(
  input: ServerOptionsInput = {},
  dependencies: ServerDependencies = {},
): Promise<ServerHandle> {
  const options = parseOptions(input);
  const logger = dependencies.logger ?? createLogger({ level: options.logLevel });
  const clock = dependencies.clock ?? new SystemClock();
  const selected = selectProtocols(options, dependencies.protocols ?? builtInProtocols, logger);

  const authenticator =
    dependencies.authenticator ??
    new UsersAuthenticator({
      users: options.auth.usersFile === undefined ? [] : await loadUsersFile(options.auth.usersFile),
      guest: options.auth.guest,
      anonymous: options.auth.anonymous,
    });

  const dataDir = path.resolve(options.dataDir);
  const openCore = dependencies.openCore ?? openBrokerCore;
  const core = await openCore({ dataDir, logger: logger.child({ component: 'core' }), clock });

  const served: Served[] = [];
  const tcpListeners: TcpListener[] = [];
  let httpListener: HttpListener | undefined;
  const ports: Partial<Record<ProtocolName | 'http', number>> = {};
  let closing = false;
  const startedMs = clock.nowMs();

  const shutdown = async (): Promise<void> => {
    closing = true;
    logger.info('shutting down: no longer accepting connections');
    await Promise.all(tcpListeners.map((listener) => listener.stopAccepting()));
    const httpClosed = httpListener?.close();

    let graceTimer: { cancel(): void } | undefined;
    const graceOver = new Promise<'grace-over'>((resolve) => {
      graceTimer = clock.setTimeout(() => resolve('grace-over'), options.shutdownGraceMs);
    });
    const adaptersClosed = Promise.allSettled(served.map(({ server }) => server.close())).then((results) => {
      results.forEach((result, index) => {
        if (result.status === 'rejected') {
          logger.error('protocol adapter failed to close', {
            protocol: served[index]?.server.name,
            error: (result.reason as Error).message,
          });
        }
      });
      return 'closed' as const;
    });
    if ((await Promise.race([adaptersClosed, graceOver])) === 'grace-over') {
      logger.warn('protocol adapters did not close their connections in time; destroying them', {
        shutdownGraceMs: options.shutdownGraceMs,
      });
    }
    graceTimer?.cancel();
    for (const listener of tcpListeners) listener.destroyConnections();
    httpListener?.destroyConnections();
    await httpClosed;

    await core.close();
    logger.info('core closed: data flushed');
    if (options.portsFile !== undefined) await rm(options.portsFile, { force: true });
  };

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= shutdown());

  try {
    for (const descriptor of selected) {
      const server = descriptor.create({
        core,
        authenticator,
        logger: logger.child({ protocol: descriptor.name }),
        clock,
        limits: options.limits,
        options: (protocolNames as readonly string[]).includes(descriptor.name)
          ? options.protocols[descriptor.name as ProtocolName].options
          : {},
      });
      served.push({ descriptor, server });
      if (!(protocolNames as readonly string[]).includes(descriptor.name)) continue;
      const name = descriptor.name as ProtocolName;
      const listener = new TcpListener(server, logger.child({ protocol: name }));
      tcpListeners.push(listener);
      const listenerOptions = options.protocols[name];
      ports[name] = await listener.listen(listenerOptions.host, listenerOptions.port);
    }

    if (options.http.enabled) {
      const routes: HttpRoute[] = served.flatMap(({ descriptor, server }) =>
        descriptor.websocket === undefined ? [] : [{ route: descriptor.websocket, server }],
      );
      httpListener = new HttpListener({
        routes,
        logger: logger.child({ listener: 'http' }),
        messageBytesMax: options.limits.frameBytesMax,
        health: () => ({
          status: closing ? 'closing' : 'ok',
          uptimeMs: clock.nowMs() - startedMs,
          protocols: served.map(({ server }) => server.name),
        }),
      });
      ports.http = await listen(httpListener, options.http.host, options.http.port);
    }

    if (options.portsFile !== undefined)
      await writePortsFile(options.portsFile, ports as Record<string, number>);
  } catch (error) {
    await close().catch((closeError: unknown) =>
      logger.error('cleanup after a failed start failed', { error: (closeError as Error).message }),
    );
    throw error;
  }

  logger.info('weir is ready', { dataDir, ports, protocols: served.map(({ server }) => server.name) });

  return {
    options,
    ports,
    protocols: served.map(({ server }) => server.name),
    core,
    logger,
    connect(protocol: string): Duplex {
      const entry = served.find(({ server }) => server.name === protocol);
      if (entry === undefined)
        throw new WeirError(ErrorCode.NotSupported, `no ${protocol} adapter is being served`);
      if (closing) throw new WeirError(ErrorCode.Closed, 'the server is shutting down');
      const [clientEnd, serverEnd] = createDuplexPair();
      entry.server.handleConnection(serverEnd, {
        remoteAddress: 'in-process',
        remotePort: 0,
        transport: 'in-process',
        loopback: true,
      });
      return clientEnd;
    },
    close,
  };
}

function listen(listener: HttpListener, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void =>
      reject(
        new WeirError(
          ErrorCode.ListenFailed,
          `http cannot listen on ${host}:${port}: ${error.code ?? error.message}`,
          {
            cause: error,
          },
        ),
      );
    listener.server.once('error', onError);
    listener.server.listen({ host, port }, () => {
      listener.server.off('error', onError);
      const address = listener.server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}
