// One TCP connection to a broker, speaking the native protocol: connect, HELLO/WELCOME,
// request ids for answers, heartbeats, and write coalescing — every frame sent in one tick
// of the event loop goes out in one socket write. It knows nothing of reconnecting or of
// subscriptions; NetworkClient owns those and opens a new Connection after a loss.

import net from 'node:net';
import { setImmediate } from 'node:timers';
import type { TimerHandle } from '../common/clock.js';
import { ErrorCode, WeirError } from '../common/errors.js';
import { NativeLimits } from '../common/limits.js';
import type { ErrorFrame, Frame, WelcomeFrame } from '../protocols/native/codec/index.js';
import { BufferWriter, FrameDecoder, ProtocolVersion, encodeFrame } from '../protocols/native/codec/index.js';
import type { ParsedConnectOptions, ServerAddress } from './options.js';

const errorCodes = new Set<string>(Object.values(ErrorCode));

/** The WeirError an ERROR frame carries. */
export function weirErrorFromFrame(frame: Pick<ErrorFrame, 'code' | 'message'>): WeirError {
  if (errorCodes.has(frame.code)) return new WeirError(frame.code as ErrorCode, frame.message);
  return new WeirError(ErrorCode.ProtocolError, `${frame.code}: ${frame.message}`);
}

export interface ConnectionHandlers {
  /** Frames that answer no request: deliveries, subscription closes, asynchronous errors. */
  onFrame(frame: Frame): void;
  /** The connection is gone; `error` says why unless the client closed it. */
  onClose(error: WeirError | undefined): void;
  /** The socket drained after a write that filled its buffer. */
  onDrain(): void;
}

interface PendingRequest {
  readonly resolve: (frame: Frame) => void;
  readonly reject: (error: WeirError) => void;
  readonly timer: TimerHandle | undefined;
}

/** A write buffer larger than this is flushed at once rather than at the end of the tick. */
const flushEagerlyBytes = 256 * 1024;

export class Connection {
  readonly welcome: WelcomeFrame;
  readonly #socket: net.Socket;
  readonly #options: ParsedConnectOptions;
  readonly #handlers: ConnectionHandlers;
  readonly #decoder: FrameDecoder;
  readonly #pending = new Map<number, PendingRequest>();
  #writer = new BufferWriter(64 * 1024);
  #flushScheduled = false;
  #nextRequestId = 1;
  #closed = false;
  #writable = true;
  #heartbeatTimer: TimerHandle | undefined;
  #lastReceivedMs: number;
  #lastSentMs: number;

  private constructor(
    socket: net.Socket,
    decoder: FrameDecoder,
    welcome: WelcomeFrame,
    options: ParsedConnectOptions,
    handlers: ConnectionHandlers,
  ) {
    this.#socket = socket;
    this.#decoder = decoder;
    this.welcome = welcome;
    this.#options = options;
    this.#handlers = handlers;
    this.#lastReceivedMs = options.clock.nowMs();
    this.#lastSentMs = this.#lastReceivedMs;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => {
      this.#writable = true;
      this.#handlers.onDrain();
    });
    socket.on('error', (error) =>
      this.#shutdown(new WeirError(ErrorCode.Closed, `connection lost: ${error.message}`)),
    );
    socket.on('close', () =>
      this.#shutdown(new WeirError(ErrorCode.Closed, 'connection closed by the broker')),
    );
    if (welcome.heartbeatMs > 0) this.#armHeartbeat();
  }

  /** Connects and completes the handshake, or rejects with the broker's error (authentication, version). */
  static open(
    address: ServerAddress,
    options: ParsedConnectOptions,
    handlers: ConnectionHandlers,
  ): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: address.host, port: address.port, noDelay: true });
      const decoder = new FrameDecoder(options.frameBytesMax);
      let settled = false;
      const fail = (error: WeirError): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        socket.destroy();
        reject(error);
      };
      const timer = options.clock.setTimeout(
        () =>
          fail(
            new WeirError(
              ErrorCode.Timeout,
              `no answer from ${address.host}:${address.port} within ${options.connectTimeoutMs} ms`,
            ),
          ),
        options.connectTimeoutMs,
      );
      const onData = (chunk: Buffer): void => {
        let frames: Frame[];
        try {
          frames = decoder.push(chunk);
        } catch (error) {
          fail(error as WeirError);
          return;
        }
        const [first, ...rest] = frames;
        if (first === undefined) return;
        if (first.kind === 'error') {
          fail(weirErrorFromFrame(first));
          return;
        }
        if (first.kind !== 'welcome') {
          fail(new WeirError(ErrorCode.ProtocolError, `expected WELCOME, got ${first.kind}`));
          return;
        }
        settled = true;
        timer.cancel();
        socket.off('data', onData);
        socket.off('error', onError);
        socket.off('close', onClose);
        const connection = new Connection(socket, decoder, first, options, handlers);
        resolve(connection);
        for (const frame of rest) connection.#onFrame(frame);
      };
      const onError = (error: Error): void =>
        fail(
          new WeirError(
            ErrorCode.Closed,
            `cannot connect to ${address.host}:${address.port}: ${error.message}`,
          ),
        );
      const onClose = (): void =>
        fail(new WeirError(ErrorCode.Closed, `${address.host}:${address.port} closed the connection`));
      socket.on('data', onData);
      socket.on('error', onError);
      socket.on('close', onClose);
      socket.on('connect', () => {
        const writer = new BufferWriter(256);
        encodeFrame(writer, {
          kind: 'hello',
          requestId: 0,
          versionMin: ProtocolVersion.min,
          versionMax: ProtocolVersion.max,
          clientName: options.name,
          ...(options.user !== undefined ? { username: options.user } : {}),
          ...(options.password !== undefined ? { password: Buffer.from(options.password) } : {}),
          heartbeatMs: options.heartbeatMs,
          frameBytesMax: options.frameBytesMax,
        });
        socket.write(writer.take());
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** False while the socket's buffer is full; NetworkClient then holds publishes back. */
  get writable(): boolean {
    return this.#writable && !this.#closed;
  }

  /** Bytes written but not yet taken by the kernel, plus bytes encoded this tick. */
  get bufferedBytes(): number {
    return this.#socket.writableLength + this.#writer.position;
  }

  get peerFrameBytesMax(): number {
    return this.welcome.frameBytesMax;
  }

  newRequestId(): number {
    const id = this.#nextRequestId;
    this.#nextRequestId = id >= 0xffffffff ? 1 : id + 1;
    return id;
  }

  /** Queues a frame for this tick's write. */
  send(frame: Frame): void {
    if (this.#closed) return;
    encodeFrame(this.#writer, frame);
    if (this.#writer.position >= flushEagerlyBytes) this.#flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flush);
    }
  }

  /**
   * Sends a frame that expects an answer and resolves with it (OK, PUBLISH_ACK,
   * FETCH_RESULT, ADMIN_RESULT); an ERROR answer rejects with its WeirError.
   */
  request(frame: Frame, timeoutMs: number | undefined = this.#options.requestTimeoutMs): Promise<Frame> {
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new WeirError(ErrorCode.Closed, 'the connection is closed'));
        return;
      }
      const requestId = frame.requestId === 0 ? this.newRequestId() : frame.requestId;
      const timer =
        timeoutMs === undefined
          ? undefined
          : this.#options.clock.setTimeout(() => {
              if (this.#pending.delete(requestId)) {
                reject(new WeirError(ErrorCode.Timeout, `no answer to ${frame.kind} within ${timeoutMs} ms`));
              }
            }, timeoutMs);
      this.#pending.set(requestId, { resolve, reject, timer });
      this.send({ ...frame, requestId });
    });
  }

  /**
   * Writes what is queued now rather than at the end of the tick. For callers that run at
   * the end of a tick themselves (the publisher's flush): a setImmediate queued from inside
   * one runs only on the next turn of the event loop, after that turn's I/O callbacks.
   */
  write(): void {
    this.#flush();
  }

  /** Says goodbye and closes; pending requests fail with WEIR_CLOSED. */
  close(): void {
    if (this.#closed) return;
    this.send({ kind: 'goodbye', requestId: 0, reason: 'client closed' });
    this.#flush();
    this.#socket.end();
    this.#shutdown(undefined);
  }

  /** Drops the connection at once (tests, and a dead peer). */
  destroy(error: WeirError): void {
    this.#socket.destroy();
    this.#shutdown(error);
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    if (this.#closed || this.#writer.position === 0) return;
    this.#lastSentMs = this.#options.clock.nowMs();
    if (!this.#socket.write(this.#writer.detach())) this.#writable = false;
  };

  #armHeartbeat(): void {
    const heartbeatMs = this.welcome.heartbeatMs;
    this.#heartbeatTimer = this.#options.clock.setTimeout(() => {
      if (this.#closed) return;
      const nowMs = this.#options.clock.nowMs();
      if (nowMs - this.#lastReceivedMs >= heartbeatMs * NativeLimits.heartbeatMissesMax) {
        this.destroy(
          new WeirError(ErrorCode.Timeout, `no frame from the broker for ${nowMs - this.#lastReceivedMs} ms`),
        );
        return;
      }
      if (nowMs - this.#lastSentMs >= heartbeatMs) this.send({ kind: 'ping', requestId: 0 });
      this.#armHeartbeat();
    }, heartbeatMs);
  }

  #onData(chunk: Buffer): void {
    this.#lastReceivedMs = this.#options.clock.nowMs();
    let frames: Frame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      this.destroy(error as WeirError);
      return;
    }
    for (const frame of frames) {
      if (this.#closed) return;
      this.#onFrame(frame);
    }
  }

  #onFrame(frame: Frame): void {
    if (frame.kind === 'ping') {
      this.send({ kind: 'pong', requestId: frame.requestId });
      return;
    }
    if (frame.kind === 'pong') return;
    if (frame.kind === 'error' && frame.fatal) {
      this.destroy(weirErrorFromFrame(frame));
      return;
    }
    if (frame.kind === 'goodbye') {
      this.destroy(new WeirError(ErrorCode.Closed, `the broker closed the connection: ${frame.reason}`));
      return;
    }
    if (frame.requestId !== 0) {
      const pending = this.#pending.get(frame.requestId);
      if (pending !== undefined) {
        this.#pending.delete(frame.requestId);
        pending.timer?.cancel();
        if (frame.kind === 'error') pending.reject(weirErrorFromFrame(frame));
        else pending.resolve(frame);
        return;
      }
    }
    this.#handlers.onFrame(frame);
  }

  #shutdown(error: WeirError | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#heartbeatTimer?.cancel();
    const failure = error ?? new WeirError(ErrorCode.Closed, 'the connection is closed');
    for (const pending of this.#pending.values()) {
      pending.timer?.cancel();
      pending.reject(failure);
    }
    this.#pending.clear();
    this.#handlers.onClose(error);
  }
}
