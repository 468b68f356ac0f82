// The protocol plug-in contract: how the server (src/server/) hands connections to a
// protocol adapter (src/protocols/<name>/). It lives in core, not in server, because
// adapters may import core but never server (DESIGN.md §2); the server imports it too.
//
// An adapter module exports one factory, `createXServer(context): ProtocolServer`. The
// server builds one ProtocolServer per enabled protocol, owns every listening socket
// (TCP, and the HTTP listener whose WebSocket upgrades it routes by path), and calls
// `handleConnection` with a plain Duplex for each accepted connection, whatever the
// transport: a net.Socket, a WebSocket wrapped by `createWebSocketStream`, or one end of an
// in-process duplex pair. The adapter never listens itself and never sees the transport.
//
// Lifecycle, in order, on shutdown: the server stops accepting, then awaits
// `ProtocolServer.close()` of every adapter (which ends its connections and closes their
// core sessions, so unacked deliveries are redelivered), then closes the core (drain and
// fsync).

import type { Duplex } from 'node:stream';
import type { Clock } from '../common/clock.js';
import type { Logger } from '../common/logger.js';
import type { CoreSession } from './api.js';
import type { Authenticator, Principal } from './auth.js';

export type Transport = 'tcp' | 'websocket' | 'in-process';

/** Who is on the other end of a connection, as the listener saw it. */
export interface ConnectionInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly transport: Transport;
  /** The peer connected from this host (127.0.0.0/8, ::1, or in-process). */
  readonly loopback: boolean;
}

/** Options a session is opened with. */
export interface SessionOptions {
  /** Who authenticated the connection that owns the session. */
  readonly principal?: Principal;
  /** A protocol-level client id (MQTT client identifier, STOMP/JMS client-id), for logs and exclusivity. */
  readonly clientId?: string;
}

/**
 * The part of the broker core every adapter uses. The server passes the `BrokerCore`
 * (src/core/broker.ts); an adapter that also needs stream and consumer administration
 * narrows `context.core` to the methods it uses, so its tests can pass a small fake.
 */
export interface ProtocolCore {
  openSession(options?: SessionOptions): CoreSession;
}

/** Limits the server applies to every protocol (configuration `limits:`; src/common/limits.ts bounds them). */
export interface ProtocolLimits {
  /** Open connections per protocol; the adapter refuses the one past it with its protocol's error. */
  readonly connectionsMax: number;
  /** Largest frame (packet) the adapter accepts; a larger one closes the connection with a protocol error. */
  readonly frameBytesMax: number;
  /** Largest message body. */
  readonly messageBytesMax: number;
}

/** Everything an adapter gets from the server. */
export interface ProtocolContext {
  readonly core: ProtocolCore;
  readonly authenticator: Authenticator;
  /** Already bound with `{ protocol: name }`. */
  readonly logger: Logger;
  readonly clock: Clock;
  readonly limits: ProtocolLimits;
  /**
   * The protocol's own section of the configuration (`protocols.<name>.options`), as
   * parsed from YAML/JSON: the adapter validates it and rejects what it does not support
   * with InvalidArgumentError naming the field.
   */
  readonly options: Readonly<Record<string, unknown>>;
}

export interface ProtocolServer {
  /** `native`, `mqtt`, `stomp`, `amqp091`, …: used in logs and the registry. */
  readonly name: string;
  /**
   * Takes ownership of an accepted connection. Must not throw: a bad peer is answered
   * with the protocol's error and the stream is destroyed. The adapter removes its own
   * listeners and closes its core session when the stream closes.
   */
  handleConnection(stream: Duplex, info: ConnectionInfo): void;
  /**
   * Ends every connection this server owns (with the protocol's "going away" where it has
   * one) and closes their core sessions. Resolves when all are closed. New connections are
   * no longer handed over by then.
   */
  close(): Promise<void>;
}

export type ProtocolServerFactory = (context: ProtocolContext) => ProtocolServer;

/** True for addresses of this host: 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  if (bare === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}
