// The STOMP protocol server: `createStompServer(context)` (the plug-in contract of
// src/core/protocol-server.ts). The server owns the listeners (TCP 61613, WebSocket `/stomp`
// with subprotocols v10.stomp, v11.stomp, v12.stomp) and hands each accepted connection
// here as a Duplex; the WebSocket subprotocol needs nothing further, as CONNECT negotiates
// the version on every transport.
//
// Options (`protocols.stomp.options`):
//   heartBeatIntervalMs   interval the server offers and asks for (default 10000; 0 disables)
//   virtualHosts          accepted `host` values (default: any)
import { ErrorCode, InvalidArgumentError, WeirError } from '../../common/errors.js';
import { StompLimits } from '../../common/limits.js';
import type { Duplex } from 'node:stream';
import type { ConnectionInfo, ProtocolContext, ProtocolServer } from '../../core/protocol-server.js';
import { encodeFrame } from './codec/index.js';
import { QueueDirectory, type StompCore } from './core-admin.js';
import { StompConnection, type StompSettings } from './session.js';
import { coreForStomp } from './core-binding.js';

export interface StompServerOptions {
  readonly heartBeatIntervalMs: number;
  readonly virtualHosts: readonly string[] | undefined;
}

export function parseStompOptions(options: Readonly<Record<string, unknown>>): StompServerOptions {
  const known = new Set(['heartBeatIntervalMs', 'virtualHosts']);
  for (const key of Object.keys(options)) {
    if (!known.has(key))
      throw new InvalidArgumentError(`protocols.stomp.options.${key} is not a STOMP option`);
  }
  const heartBeat = options['heartBeatIntervalMs'] ?? StompLimits.heartBeatIntervalMs;
  if (
    typeof heartBeat !== 'number' ||
    !Number.isInteger(heartBeat) ||
    (heartBeat !== 0 && heartBeat < StompLimits.heartBeatIntervalMinMs)
  ) {
    throw new InvalidArgumentError(
      `protocols.stomp.options.heartBeatIntervalMs must be 0 or an integer of at least ${StompLimits.heartBeatIntervalMinMs}`,
    );
  }
  const hosts = options['virtualHosts'];
  if (hosts !== undefined && (!Array.isArray(hosts) || !hosts.every((host) => typeof host === 'string'))) {
    throw new InvalidArgumentError('protocols.stomp.options.virtualHosts must be a list of strings');
  }
  return { heartBeatIntervalMs: heartBeat, virtualHosts: hosts as string[] | undefined };
}

export function createStompServer(context: ProtocolContext): ProtocolServer {
  return createStompServerWith(context, coreForStomp(context.core));
}

/** The factory with an explicit core binding (tests pass their own). */
export function createStompServerWith(context: ProtocolContext, core: StompCore): ProtocolServer {
  const options = parseStompOptions(context.options);
  const settings: StompSettings = {
    heartBeatIntervalMs: options.heartBeatIntervalMs,
    connectTimeoutMs: StompLimits.connectTimeoutMs,
    headerBytesMax: StompLimits.headerBytesMax,
    headersMax: StompLimits.headersMax,
    bodyBytesMax: Math.min(
      StompLimits.bodyBytesMax,
      context.limits.messageBytesMax,
      context.limits.frameBytesMax,
    ),
    virtualHosts: options.virtualHosts,
    serverName: 'Weir/0.1.0',
  };
  const connections = new Set<StompConnection>();
  const connectionContext = {
    core,
    queues: new QueueDirectory(core),
    authenticator: context.authenticator,
    logger: context.logger,
    clock: context.clock,
    settings,
  };
  let closing = false;
  const waiters = new Set<() => void>();
  const onClosed = (connection: StompConnection): void => {
    connections.delete(connection);
    if (connections.size === 0) for (const resolve of waiters) resolve();
  };

  return {
    name: 'stomp',
    handleConnection(stream: Duplex, info: ConnectionInfo): void {
      if (closing || connections.size >= context.limits.connectionsMax) {
        const reason = closing
          ? 'the server is shutting down'
          : `more than ${context.limits.connectionsMax} connections`;
        const error = new WeirError(closing ? ErrorCode.Closed : ErrorCode.LimitExceeded, reason);
        stream.on('error', () => undefined);
        stream.end(
          encodeFrame(
            {
              command: 'ERROR',
              headers: [
                ['message', closing ? 'server shutting down' : 'limit exceeded'],
                ['code', error.code],
                ['content-type', 'text/plain'],
              ],
              body: Buffer.from(`${reason}\n`),
            },
            '1.0',
          ),
        );
        return;
      }
      connections.add(new StompConnection(stream, info, connectionContext, onClosed));
    },
    async close(): Promise<void> {
      closing = true;
      if (connections.size === 0) return;
      const allClosed = new Promise<void>((resolve) => waiters.add(resolve));
      for (const connection of [...connections]) {
        if (connection.state === 'connected') {
          connection.fail(new WeirError(ErrorCode.Closed, 'the server is shutting down'));
        } else connection.destroy();
      }
      // A peer that does not read its ERROR must not hold up shutdown.
      const timer = context.clock.setTimeout(() => {
        for (const connection of [...connections]) connection.destroy();
      }, 2_000);
      await allClosed;
      timer.cancel();
    },
  };
}
