// One native-protocol connection: the state machine between a byte stream and a
// CoreSession. Frames are decoded incrementally and dispatched to handlers/ (one file per
// frame kind); everything the session sends in one tick of the event loop goes out in one
// socket write.
//
// States: `handshake` (only HELLO is accepted) → `authenticating` (the socket is paused and
// frames that arrive are queued) → `open` → `closed`.
//
// Backpressure: while the socket does not drain, deliveries stay in per-subscription
// pending lists and credit the client grants is held back rather than passed to the core,
// so a slow consumer makes the broker stop reading from the log — it costs disk, not
// memory. Each pending list is bounded by the subscription's credit (push) or by its buffer
// limit with its slow-consumer policy (live). Producers are flow-controlled by not reading
// the socket: while confirmed publishes in flight are past their limit, and while the core
// refuses publishes as overloaded (they are retried after a short delay, in order, never
// dropped), so TCP pushes back on the producer.
//
// A malformed frame closes this connection with a fatal ERROR frame; nothing else is
// affected. Everything here runs on the event loop thread; no method interleaves with
// another except across the awaits noted.

import type { Duplex } from 'node:stream';
import type { TimerHandle } from '../../common/clock.js';
import { ErrorCode, WeirError } from '../../common/errors.js';
import { NativeLimits } from '../../common/limits.js';
import type { Logger } from '../../common/logger.js';
import type { RingBuffer } from '../../common/ring-buffer.js';
import type { Attachment, CoreSession, Delivery, LiveSubscription, Message } from '../../core/api.js';
import type { Principal } from '../../core/auth.js';
import type { ConnectionInfo, ProtocolContext } from '../../core/protocol-server.js';
import type { Frame, WireDelivery, WireSlowConsumerPolicy } from './codec/index.js';
import { BufferWriter, FrameDecoder, encodeFrame } from './codec/index.js';
import { dispatchFrame } from './dispatch.js';
import { errorFrameOf, weirErrorOf } from './mapping.js';

export interface PushSubscription {
  readonly kind: 'push';
  readonly id: number;
  readonly stream: string;
  readonly consumer: string;
  attachment: Attachment | undefined;
  readonly pending: Delivery[];
  /** Credit passed to the core and not yet used by a delivery (an estimate once acks return credit). */
  outstandingCredit: number;
  /** Credit the client granted while the socket was not draining. */
  heldCredit: number;
}

export interface LiveSubscriptionState {
  readonly kind: 'live';
  readonly id: number;
  subscription: LiveSubscription | undefined;
  readonly pending: RingBuffer<Message>;
  readonly bufferMessagesMax: number;
  readonly slowConsumerPolicy: WireSlowConsumerPolicy;
  /** Messages this adapter dropped while the socket did not drain. */
  droppedCount: number;
  /** Drops (the core's and this adapter's) already reported to the client in LIVE_DELIVER. */
  droppedReported: number;
}

export type Subscription = PushSubscription | LiveSubscriptionState;

type State = 'handshake' | 'authenticating' | 'open' | 'closed';

export interface SessionHooks {
  onClosed(session: NativeSession): void;
}

export class NativeSession {
  readonly context: ProtocolContext;
  readonly stream: Duplex;
  readonly info: ConnectionInfo;
  readonly logger: Logger;
  readonly subscriptions = new Map<number, Subscription>();
  readonly #hooks: SessionHooks;
  readonly #decoder: FrameDecoder;
  #state: State = 'handshake';
  #core: CoreSession | undefined;
  #principal: Principal | undefined;
  #queued: Frame[] = [];
  #writer = new BufferWriter(64 * 1024);
  #flushScheduled = false;
  #writable = true;
  #dirty = new Set<Subscription>();
  #peerFrameBytesMax: number = NativeLimits.frameBytesDefault;
  #publishesInFlight = 0;
  #readPaused = false;
  #inFlightPaused = false;
  /** While above 0, frames wait in #queued in arrival order (a fire-and-forget publish is retrying). */
  #blocked = 0;
  /** Confirmed publishes waiting to be retried because the core was overloaded. */
  #publishRetries = 0;
  #heartbeatMs = 0;
  #heartbeatTimer: TimerHandle | undefined;
  #lastReceivedMs: number;
  #lastSentMs: number;
  #closedPromise: Promise<void> | undefined;

  constructor(
    context: ProtocolContext,
    stream: Duplex,
    info: ConnectionInfo,
    logger: Logger,
    hooks: SessionHooks,
  ) {
    this.context = context;
    this.stream = stream;
    this.info = info;
    this.logger = logger;
    this.#hooks = hooks;
    this.#decoder = new FrameDecoder(context.limits.frameBytesMax);
    this.#lastReceivedMs = context.clock.nowMs();
    this.#lastSentMs = this.#lastReceivedMs;
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('drain', () => this.#onDrain());
    stream.on('end', () => void this.close());
    stream.on('close', () => void this.close());
    stream.on('error', (error: Error) => {
      this.logger.debug('connection error', { error: error.message });
      void this.close();
    });
  }

  get state(): State {
    return this.#state;
  }

  /** The core session; only handlers of an open session call this. */
  get core(): CoreSession {
    if (this.#core === undefined) throw new WeirError(ErrorCode.Closed, 'the session is not open');
    return this.#core;
  }

  get principal(): Principal | undefined {
    return this.#principal;
  }

  get writable(): boolean {
    return this.#writable;
  }

  get peerFrameBytesMax(): number {
    return this.#peerFrameBytesMax;
  }

  // ---- receiving ----

  #onData(chunk: Buffer): void {
    if (this.#state === 'closed') return;
    this.#lastReceivedMs = this.context.clock.nowMs();
    let frames: Frame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      this.fail(error);
      return;
    }
    for (const frame of frames) {
      if (this.state === 'closed') return;
      if (this.#state === 'authenticating' || this.#blocked > 0) this.#queued.push(frame);
      else this.#dispatch(frame);
    }
  }

  #dispatch(frame: Frame): void {
    if (this.#state === 'handshake' && frame.kind !== 'hello') {
      this.fail(
        new WeirError(ErrorCode.ProtocolError, `expected HELLO as the first frame, got ${frame.kind}`),
      );
      return;
    }
    try {
      dispatchFrame(this, frame);
    } catch (error) {
      // A handler's synchronous failure answers the request; it never takes the connection down.
      this.send(errorFrameOf(frame.requestId, error));
    }
  }

  // ---- handshake ----

  /** HELLO was accepted: queue what follows until authentication completes. */
  beginAuthentication(): void {
    this.#state = 'authenticating';
    this.#updateReading();
  }

  /** Authentication succeeded: open the core session, answer WELCOME, then run queued frames. */
  open(
    principal: Principal,
    clientName: string,
    version: number,
    heartbeatMs: number,
    frameBytesMax: number,
  ): void {
    if (this.#state !== 'authenticating') return;
    this.#principal = principal;
    this.#core = this.context.core.openSession({
      principal,
      ...(clientName !== '' ? { clientId: clientName } : {}),
    });
    this.#state = 'open';
    this.#peerFrameBytesMax = Math.max(1024, frameBytesMax);
    this.#heartbeatMs = heartbeatMs;
    this.send({
      kind: 'welcome',
      requestId: 0,
      version,
      serverName: 'weir',
      sessionId: this.#core.id,
      heartbeatMs,
      frameBytesMax: this.context.limits.frameBytesMax,
    });
    if (heartbeatMs > 0) this.#armHeartbeat();
    this.#updateReading();
    this.#drainQueued();
  }

  /** Runs frames that waited (for authentication, or behind a blocked publish), until one blocks again. */
  #drainQueued(): void {
    while (this.#queued.length > 0 && this.#blocked === 0 && this.state === 'open') {
      this.#dispatch(this.#queued.shift() as Frame);
    }
  }

  #armHeartbeat(): void {
    this.#heartbeatTimer = this.context.clock.setTimeout(() => {
      if (this.#state !== 'open') return;
      const nowMs = this.context.clock.nowMs();
      if (nowMs - this.#lastReceivedMs >= this.#heartbeatMs * NativeLimits.heartbeatMissesMax) {
        this.fail(
          new WeirError(ErrorCode.Timeout, `no frame from the client for ${nowMs - this.#lastReceivedMs} ms`),
        );
        return;
      }
      if (nowMs - this.#lastSentMs >= this.#heartbeatMs) this.send({ kind: 'ping', requestId: 0 });
      this.#armHeartbeat();
    }, this.#heartbeatMs);
  }

  // ---- sending ----

  /** Queues a frame; everything queued in one tick goes out in one write. */
  send(frame: Frame): void {
    if (this.#state === 'closed') return;
    encodeFrame(this.#writer, frame);
    this.#scheduleFlush();
  }

  ok(requestId: number): void {
    if (requestId !== 0) this.send({ kind: 'ok', requestId });
  }

  /** Answers a failed request; with request id 0 the client still hears about it. */
  replyError(requestId: number, error: unknown): void {
    this.send(errorFrameOf(requestId, error));
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // At the end of the current callback and its microtasks, not on setImmediate: a delivery
    // comes from the stream partition's append, which itself runs on setImmediate, and an
    // immediate queued from there waited for the next turn of the event loop (its timers and
    // its poll for every other connection's I/O) before the message left.
    process.nextTick(this.#flush);
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    if (this.#state === 'closed') return;
    if (this.#writable && this.#dirty.size > 0) this.#encodePending();
    if (this.#writer.position === 0) return;
    this.#lastSentMs = this.context.clock.nowMs();
    if (!this.stream.write(this.#writer.detach())) this.#writable = false;
  };

  #encodePending(): void {
    // Half the peer's frame limit leaves room for headers and record overhead.
    const frameBudgetBytes = this.#peerFrameBytesMax / 2;
    for (const subscription of this.#dirty) {
      if (subscription.kind === 'push') {
        const pending = subscription.pending.splice(0);
        for (let start = 0; start < pending.length;) {
          let end = start;
          let bytes = 0;
          while (end < pending.length && end - start < NativeLimits.batchMessagesMax) {
            bytes += (pending[end] as Delivery).message.body.length + 256;
            if (bytes > frameBudgetBytes && end > start) break;
            end++;
          }
          // A core Delivery is a WireDelivery (and a Message a WireMessage): encoded as is, no copy.
          const deliveries: readonly WireDelivery[] = pending.slice(start, end);
          encodeFrame(this.#writer, {
            kind: 'deliver',
            requestId: 0,
            subscriptionId: subscription.id,
            deliveries,
          });
          start = end;
        }
      } else {
        const pending = subscription.pending;
        while (pending.length > 0) {
          const messages: Message[] = [];
          let bytes = 0;
          while (pending.length > 0 && messages.length < NativeLimits.batchMessagesMax) {
            const next = pending.peek() as Message;
            bytes += next.body.length + 256;
            if (bytes > frameBudgetBytes && messages.length > 0) break;
            messages.push(next);
            pending.shift();
          }
          // Drops since the last frame ride on this one, so the client can count them.
          const dropped = subscription.droppedCount + (subscription.subscription?.droppedCount ?? 0);
          const droppedCount = dropped - subscription.droppedReported;
          subscription.droppedReported = dropped;
          encodeFrame(this.#writer, {
            kind: 'liveDeliver',
            requestId: 0,
            subscriptionId: subscription.id,
            messages,
            ...(droppedCount > 0 ? { droppedCount } : {}),
          });
        }
      }
    }
    this.#dirty.clear();
  }

  #onDrain(): void {
    if (this.#state === 'closed') return;
    this.#writable = true;
    for (const subscription of this.subscriptions.values()) {
      if (subscription.kind === 'push' && subscription.heldCredit > 0) {
        const credit = subscription.heldCredit;
        subscription.heldCredit = 0;
        this.grantCredit(subscription, credit);
      }
    }
    if (this.#dirty.size > 0) this.#scheduleFlush();
  }

  // ---- subscriptions ----

  /** Passes credit to the core now if the socket drains, or holds it until it does. */
  grantCredit(subscription: PushSubscription, credit: number): void {
    if (!this.#writable) {
      subscription.heldCredit = Math.min(subscription.heldCredit + credit, NativeLimits.creditMax);
      return;
    }
    const grant = Math.min(credit, NativeLimits.creditMax - subscription.outstandingCredit);
    if (grant <= 0 || subscription.attachment === undefined) return;
    subscription.outstandingCredit += grant;
    subscription.attachment.grant(grant);
  }

  /** A push delivery from the core. */
  deliver(subscription: PushSubscription, delivery: Delivery): void {
    if (this.#state === 'closed') return;
    subscription.outstandingCredit = Math.max(0, subscription.outstandingCredit - 1);
    subscription.pending.push(delivery);
    this.#dirty.add(subscription);
    if (this.#writable) this.#scheduleFlush();
  }

  /** A live message from the core; bounded by the subscription's buffer while the socket does not drain. */
  deliverLive(subscription: LiveSubscriptionState, message: Message): void {
    if (this.#state === 'closed') return;
    if (subscription.pending.length >= subscription.bufferMessagesMax) {
      if (subscription.slowConsumerPolicy === 'disconnect') {
        this.closeSubscription(
          subscription,
          new WeirError(
            ErrorCode.SlowConsumer,
            `live subscription ${subscription.id} fell ${subscription.bufferMessagesMax} messages behind`,
          ),
        );
        return;
      }
      subscription.pending.shift();
      subscription.droppedCount++;
    }
    subscription.pending.push(message);
    this.#dirty.add(subscription);
    if (this.#writable) this.#scheduleFlush();
  }

  /** Ends a subscription from the broker's side and tells the client why. */
  closeSubscription(subscription: Subscription, error: Error | undefined): void {
    if (this.subscriptions.get(subscription.id) !== subscription) return;
    this.subscriptions.delete(subscription.id);
    this.#dirty.delete(subscription);
    if (subscription.kind === 'push') subscription.attachment?.close();
    else subscription.subscription?.close();
    const weirError = error === undefined ? undefined : weirErrorOf(error);
    this.send({
      kind: 'subscriptionClosed',
      requestId: 0,
      subscriptionId: subscription.id,
      ...(weirError !== undefined ? { error: { code: weirError.code, message: weirError.message } } : {}),
    });
  }

  /** Removes a subscription at the client's request (DETACH). */
  removeSubscription(subscription: Subscription): void {
    this.subscriptions.delete(subscription.id);
    this.#dirty.delete(subscription);
  }

  // ---- producer flow control ----

  publishStarted(count: number): void {
    this.#publishesInFlight += count;
    if (!this.#inFlightPaused && this.#publishesInFlight >= NativeLimits.publishesInFlightMax) {
      this.#inFlightPaused = true;
      this.#updateReading();
    }
  }

  publishFinished(count: number): void {
    this.#publishesInFlight -= count;
    if (this.#inFlightPaused && this.#publishesInFlight <= NativeLimits.publishesInFlightMax / 2) {
      this.#inFlightPaused = false;
      this.#updateReading();
    }
  }

  /**
   * The core refused a fire-and-forget publish as overloaded: hold every later frame (so
   * order is kept) and stop reading the socket, so TCP pushes back on the producer, until
   * unblock(). DESIGN.md §4: never silently dropped.
   */
  block(): void {
    this.#blocked++;
    this.#updateReading();
  }

  unblock(): void {
    this.#blocked--;
    this.#updateReading();
    this.#drainQueued();
  }

  /** A confirmed publish waits to be retried: stop reading until it is accepted. */
  publishRetryStarted(): void {
    this.#publishRetries++;
    this.#updateReading();
  }

  publishRetryFinished(): void {
    this.#publishRetries--;
    this.#updateReading();
  }

  #updateReading(): void {
    if (this.#state === 'closed') return;
    const pause =
      this.#state === 'authenticating' ||
      this.#blocked > 0 ||
      this.#publishRetries > 0 ||
      this.#inFlightPaused;
    if (pause && !this.#readPaused) {
      this.#readPaused = true;
      this.stream.pause();
    } else if (!pause && this.#readPaused) {
      this.#readPaused = false;
      this.stream.resume();
    }
  }

  // ---- closing ----

  /** Closes the connection after a fatal error frame. */
  fail(error: unknown): void {
    if (this.#state === 'closed') return;
    const frame = errorFrameOf(0, error, true);
    this.logger.debug('closing connection', { code: frame.code, reason: frame.message });
    // Frames already queued (earlier answers) go first, then the error, then the end.
    encodeFrame(this.#writer, frame);
    const bytes = this.#writer.detach();
    if (!this.stream.destroyed && !this.stream.writableEnded)
      this.stream.end(bytes, () => this.stream.destroy());
    void this.close();
  }

  /** Says goodbye and ends the connection (server shutdown). */
  async goodbye(reason: string): Promise<void> {
    if (this.#state !== 'closed' && !this.stream.destroyed && !this.stream.writableEnded) {
      encodeFrame(this.#writer, { kind: 'goodbye', requestId: 0, reason });
      const bytes = this.#writer.detach();
      this.stream.end(bytes, () => this.stream.destroy());
    }
    await this.close();
  }

  /** Releases everything this connection holds; the core redelivers its unacked messages. */
  close(): Promise<void> {
    if (this.#closedPromise !== undefined) return this.#closedPromise;
    this.#state = 'closed';
    this.#heartbeatTimer?.cancel();
    this.#queued = [];
    this.#dirty.clear();
    for (const subscription of this.subscriptions.values()) {
      if (subscription.kind === 'push') subscription.pending.length = 0;
      else subscription.pending.clear();
    }
    this.subscriptions.clear();
    if (!this.stream.destroyed && this.stream.writableEnded) {
      // fail() or goodbye() is ending the stream; it destroys it once flushed.
    } else if (!this.stream.destroyed) {
      this.stream.destroy();
    }
    const core = this.#core;
    this.#closedPromise = (async () => {
      try {
        if (core !== undefined) await core.close();
      } catch (error) {
        this.logger.error('closing the core session failed', { error: weirErrorOf(error).message });
      } finally {
        this.#hooks.onClosed(this);
      }
    })();
    return this.#closedPromise;
  }
}
