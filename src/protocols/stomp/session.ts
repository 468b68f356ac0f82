// One STOMP connection: the state machine between a byte stream and a CoreSession.
//
//   awaiting-connect ──CONNECT/STOMP──▶ connected ──DISCONNECT / ERROR / socket close──▶ closed
//
// Frames are handled strictly in arrival order. A handler that must finish before the next
// frame is looked at (CONNECT's authentication, creating a queue on first use) returns a
// promise, and reading pauses until it settles. Waiting for durability does not hold up
// later frames: a receipted SEND registers its confirm with `trackConfirm`, and every
// RECEIPT is written only after all confirms registered before it, so a RECEIPT still means
// "this frame and all before it are done" (STOMP 1.2: RECEIPT).
//
// Any error ends the connection: an ERROR frame with a `message` header and an explanatory
// body, then close (STOMP 1.2: ERROR). Everything the connection holds (attachments, live
// subscriptions, temporary queues, open transactions) is released with its CoreSession, and
// unacked deliveries are redelivered by the core.
import type { Duplex } from 'node:stream';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { ErrorCode, WeirError } from '../../common/errors.js';
import { StompLimits } from '../../common/limits.js';
import type { Logger } from '../../common/logger.js';
import type {
  Attachment,
  CoreSession,
  Delivery,
  LiveSubscription,
  Message,
  PublishInput,
  Transaction as CoreTransaction,
} from '../../core/api.js';
import type { Authenticator, Principal } from '../../core/auth.js';
import type { ConnectionInfo } from '../../core/protocol-server.js';
import {
  StompParser,
  encodeFrame,
  header,
  heartBeatBytes,
  isClientCommand,
  type ClientCommand,
  type HeaderEntry,
  type StompFrame,
  type StompVersion,
} from './codec/index.js';
import type { DurableName, QueueDirectory, StompCore } from './core-admin.js';
import { ConfirmOrder } from './confirm-order.js';
import { errorMessageHeader, StompProtocolError } from './errors.js';
import { HeartBeat } from './heart-beat.js';
import { handlers } from './handlers/index.js';
import { encodeMessage, messageDestination, type Destination } from './mapping.js';

export interface StompSettings {
  /** Heart-beat interval the server offers to send and asks to receive; 0 disables. */
  readonly heartBeatIntervalMs: number;
  readonly connectTimeoutMs: number;
  readonly headerBytesMax: number;
  readonly headersMax: number;
  readonly bodyBytesMax: number;
  /** Accepted `host` values; undefined accepts any (Weir has one namespace). */
  readonly virtualHosts: readonly string[] | undefined;
  readonly serverName: string;
}

export interface StompConnectionContext {
  readonly core: StompCore;
  readonly queues: QueueDirectory;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly settings: StompSettings;
}

export type AckMode = 'auto' | 'client' | 'client-individual';

/** A delivery awaiting ACK or NACK from the client. */
export interface PendingAck {
  readonly ackId: string;
  readonly delivery: Delivery;
  readonly subscription: ConsumerSubscription;
}

interface SubscriptionBase {
  /** Mutable only for a temporary queue, which a later SUBSCRIBE may give an id. */
  id: string;
  readonly destination: Destination;
  readonly ackMode: AckMode;
}

/** A subscription on a durable consumer: a queue or a durable topic subscription. */
export interface ConsumerSubscription extends SubscriptionBase {
  readonly kind: 'consumer';
  attachment: Attachment | undefined;
  /** Unacked deliveries in delivery order, for the cumulative ACK of `client` mode. */
  readonly pending: Map<string, PendingAck>;
  /** auto mode: credit owed back to the core once the socket drains. */
  owedCredit: number;
  readonly durableName: DurableName | undefined;
}

/** A live (non-durable, at-most-once) subscription: a topic or a temporary queue. */
export interface LiveStompSubscription extends SubscriptionBase {
  readonly kind: 'live';
  live: LiveSubscription | undefined;
}

export type Subscription = ConsumerSubscription | LiveStompSubscription;

/** A temporary queue this connection owns (see resolve.ts). */
export interface TempQueue {
  /** Empty until the core has created it. */
  subject: string;
  ref: { readonly stream: string; readonly consumer: string } | undefined;
  ready: Promise<void>;
  /** Where its messages are delivered: the SUBSCRIBE's id and ack mode, or auto. */
  subscription: ConsumerSubscription;
}

/**
 * A STOMP transaction on a core transaction: SENDs to subjects a stream captures and ACKs go
 * into the core transaction (all or nothing, also across a crash); SENDs that only live
 * subscribers can take, and NACKs, wait here and are applied once the commit succeeded.
 */
export interface Transaction {
  readonly core: CoreTransaction;
  readonly live: PublishInput[];
  readonly nacks: PendingAck[];
  /** Frames and body bytes held here (live SENDs and NACKs), bounded by StompLimits. */
  frames: number;
  bytes: number;
}

type State = 'awaiting-connect' | 'connecting' | 'connected' | 'closing' | 'closed';

let connectionCounter = 0;

export class StompConnection {
  readonly id: string;
  readonly info: ConnectionInfo;
  readonly context: StompConnectionContext;
  readonly logger: Logger;
  readonly subscriptions = new Map<string, Subscription>();
  readonly transactions = new Map<string, Transaction>();
  /** Unacked deliveries by ack id (the 1.2 `ack` header, the 1.0/1.1 `message-id`). */
  readonly pendingAcks = new Map<string, PendingAck>();
  /** Temporary queues this connection owns, by name: a live subscription on its inbox subject. */
  readonly tempQueues = new Map<string, TempQueue>();
  version: StompVersion = '1.0';
  principal: Principal | undefined;
  clientId: string | undefined;

  readonly #stream: Duplex;
  readonly #parser: StompParser;
  readonly #onClosed: (connection: StompConnection) => void;
  #state: State = 'awaiting-connect';
  #session: CoreSession | undefined;
  /** Parsed frames not yet handled, from `#queueHead` on (an index, not shift(): one chunk may hold thousands). */
  readonly #queue: (StompFrame | WeirError)[] = [];
  #queueHead = 0;
  #busy = false;
  readonly #confirms = new ConfirmOrder();
  #pausedForConfirms = false;
  #deliverySequence = 0;
  #lastReadMs: number;
  #lastWriteMs: number;
  readonly #heartBeat: HeartBeat;
  #connectTimer: TimerHandle | undefined;
  readonly #owingSubscriptions = new Set<ConsumerSubscription>();

  constructor(
    stream: Duplex,
    info: ConnectionInfo,
    context: StompConnectionContext,
    onClosed: (connection: StompConnection) => void,
  ) {
    this.id = `${(++connectionCounter).toString(36)}${Math.floor(Math.random() * 0xffffff).toString(36)}`;
    this.info = info;
    this.context = context;
    this.logger = context.logger.child({ connection: this.id, remote: info.remoteAddress });
    this.#stream = stream;
    this.#onClosed = onClosed;
    this.#parser = new StompParser({
      headerBytesMax: context.settings.headerBytesMax,
      headersMax: context.settings.headersMax,
      bodyBytesMax: context.settings.bodyBytesMax,
    });
    this.#lastReadMs = context.clock.nowMs();
    this.#lastWriteMs = this.#lastReadMs;
    this.#heartBeat = new HeartBeat(context.clock, {
      lastReadMs: () => this.#lastReadMs,
      lastWriteMs: () => this.#lastWriteMs,
      beat: () => this.#write(heartBeatBytes),
      timedOut: (silentMs) => {
        this.logger.info('heart-beat timeout', { silentMs });
        this.fail(new StompProtocolError(`no data or heart-beat from the client for ${silentMs} ms`));
      },
    });
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('drain', () => this.#onDrain());
    stream.on('error', (error: Error) => {
      this.logger.debug('stream error', { error: error.message });
      this.#release();
    });
    stream.on('close', () => this.#release());
    stream.on('end', () => {
      if (this.#state !== 'closed') this.#stream.end();
    });
    this.#connectTimer = context.clock.setTimeout(() => {
      if (this.#state === 'awaiting-connect' || this.#state === 'connecting') {
        this.fail(new StompProtocolError('no CONNECT frame within the connect timeout'));
      }
    }, context.settings.connectTimeoutMs);
  }

  get state(): State {
    return this.#state;
  }

  get session(): CoreSession {
    if (this.#session === undefined) throw new StompProtocolError('not connected');
    return this.#session;
  }

  // ---- input ----

  #onData(chunk: Buffer): void {
    this.#lastReadMs = this.context.clock.nowMs();
    if (this.#state === 'closing' || this.#state === 'closed') return;
    const result = this.#parser.push(chunk);
    for (const frame of result.frames) this.#queue.push(frame);
    if (result.error !== undefined) this.#queue.push(result.error);
    this.#drainQueue();
    if (this.#stream.writableLength > StompLimits.writeBufferBytesMax) this.#updateReading();
  }

  #drainQueue(): void {
    while (!this.#busy && this.#queueHead < this.#queue.length) {
      if (this.#state === 'closing' || this.#state === 'closed') return;
      const item = this.#queue[this.#queueHead++];
      if (this.#queueHead === this.#queue.length) {
        this.#queue.length = 0;
        this.#queueHead = 0;
      }
      if (item === undefined) return;
      if (item instanceof WeirError) {
        this.fail(item);
        return;
      }
      let outcome: void | Promise<void>;
      try {
        outcome = this.#dispatch(item);
      } catch (error) {
        this.fail(error, item);
        return;
      }
      if (outcome instanceof Promise) {
        this.#busy = true;
        this.#updateReading();
        outcome.then(
          () => {
            this.#busy = false;
            this.#afterFrame(item);
            this.#updateReading();
            this.#drainQueue();
          },
          (error: unknown) => {
            this.#busy = false;
            this.fail(error, item);
          },
        );
        return;
      }
      this.#afterFrame(item);
    }
  }

  #dispatch(frame: StompFrame): void | Promise<void> {
    const command = frame.command;
    if (!isClientCommand(command)) {
      throw new StompProtocolError(`${command} is a server frame; a client may not send it`);
    }
    if (this.#state === 'awaiting-connect') {
      if (command !== 'CONNECT' && command !== 'STOMP') {
        throw new StompProtocolError(`expected CONNECT or STOMP as the first frame, got ${command}`);
      }
      this.#state = 'connecting';
    } else if (command === 'CONNECT' || command === 'STOMP') {
      throw new StompProtocolError('already connected: a second CONNECT is not allowed');
    }
    return handlers[command as ClientCommand](this, frame);
  }

  /** Sends the frame's RECEIPT once it and everything before it are done. */
  #afterFrame(frame: StompFrame): void {
    if (frame.command === 'CONNECT' || frame.command === 'STOMP' || frame.command === 'DISCONNECT') return;
    const receipt = header(frame, 'receipt');
    if (receipt !== undefined) this.sendReceipt(receipt);
  }

  // ---- called by handlers ----

  /** CONNECT succeeded: start the session, heart-beats and escaping of the negotiated version. */
  establish(
    session: CoreSession,
    version: StompVersion,
    heartBeat: { sendMs: number; receiveMs: number },
    headers: HeaderEntry[],
  ): void {
    this.#connectTimer?.cancel();
    this.#session = session;
    this.version = version;
    this.#parser.setVersion(version);
    if (this.#state !== 'connecting') {
      void session.close();
      return;
    }
    this.#state = 'connected';
    this.sendFrame({ command: 'CONNECTED', headers, body: Buffer.alloc(0) });
    this.#heartBeat.start(heartBeat.sendMs, heartBeat.receiveMs);
    // Frames pipelined behind CONNECT were held until the version was known.
    const held = this.#parser.resume();
    for (const frame of held.frames) this.#queue.push(frame);
    if (held.error !== undefined) this.#queue.push(held.error);
  }

  /** Registers durability work that later RECEIPTs must wait for; a rejection ends the connection. */
  trackConfirm(work: Promise<unknown>, frame: StompFrame): void {
    const sequence = this.#confirms.register();
    work.then(
      () => this.#settle(sequence),
      (error: unknown) => {
        this.#settle(sequence);
        this.fail(error, frame);
      },
    );
    if (this.#confirms.outstanding >= StompLimits.pendingConfirmsMax && !this.#pausedForConfirms) {
      this.#pausedForConfirms = true;
      this.#updateReading();
    }
  }

  #settle(sequence: number): void {
    this.#confirms.settle(sequence);
    this.#maybeResume();
  }

  /**
   * Reads from the client only while nothing holds it back: a handler in progress, too many
   * confirms outstanding, or a client that does not read what it is sent (its RECEIPTs would
   * otherwise pile up in this process).
   */
  #updateReading(): void {
    const writesBacklogged = this.#stream.writableLength > StompLimits.writeBufferBytesMax;
    if (this.#busy || this.#pausedForConfirms || writesBacklogged) this.#stream.pause();
    else if (this.#state !== 'closing' && this.#state !== 'closed') this.#stream.resume();
  }

  #maybeResume(): void {
    if (this.#pausedForConfirms && this.#confirms.outstanding < StompLimits.pendingConfirmsMax / 2) {
      this.#pausedForConfirms = false;
      this.#updateReading();
    }
  }

  sendReceipt(receiptId: string): void {
    this.#confirms.afterAll(() => {
      if (this.#failed || this.#state === 'closed') return;
      this.sendFrame({ command: 'RECEIPT', headers: [['receipt-id', receiptId]], body: Buffer.alloc(0) });
    });
  }

  /** Resolves once every confirm registered so far has settled. */
  confirmsSettled(): Promise<void> {
    return new Promise((resolve) => this.#confirms.afterAll(resolve));
  }

  sendFrame(frame: StompFrame): boolean {
    if (this.#state === 'closed') return false;
    return this.#write(encodeFrame(frame, this.version));
  }

  /**
   * Frames written in one run of the event loop (a burst of deliveries, the RECEIPTs of one
   * fsync) leave in one socket write: the stream is corked at the first and uncorked on the
   * next tick (DESIGN.md §8).
   */
  #write(bytes: Buffer): boolean {
    if (!this.#corked) {
      // Once per tick is precise enough for heart-beats.
      this.#lastWriteMs = this.context.clock.nowMs();
      this.#corked = true;
      this.#stream.cork();
      process.nextTick(this.#uncork);
    }
    return this.#stream.write(bytes);
  }

  #corked = false;

  readonly #uncork = (): void => {
    this.#corked = false;
    this.#stream.uncork();
  };

  nextDeliveryId(): string {
    return `${this.id}-${++this.#deliverySequence}`;
  }

  /** Writes a MESSAGE for a push delivery of a consumer subscription. */
  deliver(subscription: ConsumerSubscription, delivery: Delivery): void {
    if (this.#state !== 'connected' && this.#state !== 'closing') return;
    const ackId = this.nextDeliveryId();
    const frame = this.#messageFrame(subscription, delivery.message, ackId, delivery.redelivered);
    if (subscription.ackMode === 'auto') {
      // At-most-once: acked as it is written; credit returns when the socket has room, so a
      // slow reader holds messages on disk, not in this process.
      const written = this.#writeParts(frame);
      this.session.ack(delivery);
      if (written) subscription.attachment?.grant(1);
      else {
        subscription.owedCredit++;
        this.#owingSubscriptions.add(subscription);
      }
      return;
    }
    const pending: PendingAck = { ackId, delivery, subscription };
    subscription.pending.set(ackId, pending);
    this.pendingAcks.set(ackId, pending);
    this.#writeParts(frame);
  }

  /** Writes a MESSAGE for a live subscription; false when the reader is too slow to take it. */
  deliverLive(subscription: LiveStompSubscription, message: Message): boolean {
    if (this.#state !== 'connected') return false;
    if (this.#stream.writableLength > StompLimits.writeBufferBytesMax) return false;
    const ackId = `${this.nextDeliveryId()}.live`;
    this.#writeParts(this.#messageFrame(subscription, message, ackId, false));
    return true;
  }

  /** Closes a live subscription, and says in the log if the core had to drop messages for it. */
  closeLive(subscription: LiveStompSubscription): void {
    const live = subscription.live;
    if (live === undefined) return;
    live.close();
    if (live.droppedCount > 0) {
      this.logger.warn('live subscription dropped messages it could not buffer', {
        subscription: subscription.id,
        dropped: live.droppedCount,
      });
    }
  }

  /** A live subscriber that cannot keep up is disconnected rather than fed without bound. */
  slowConsumer(subscription: LiveStompSubscription): void {
    this.fail(
      new WeirError(
        ErrorCode.SlowConsumer,
        `subscription '${subscription.id}' cannot keep up: more than ${StompLimits.writeBufferBytesMax} bytes are waiting to be written to this connection`,
      ),
    );
  }

  #messageFrame(subscription: Subscription, message: Message, ackId: string, redelivered: boolean): Buffer[] {
    return encodeMessage(
      {
        message,
        destination: messageDestination(subscription.destination, message.subject),
        subscriptionId: subscription.id,
        messageId: ackId,
        ackId: subscription.ackMode !== 'auto' && this.version === '1.2' ? ackId : undefined,
        redelivered,
        shared: subscription.kind === 'live',
      },
      this.version,
    );
  }

  /**
   * Writes the parts of one frame; false when the socket asks to wait. Over WebSocket each
   * write is one WebSocket message, and clients expect a frame per message, so the parts
   * are joined there.
   */
  #writeParts(parts: readonly Buffer[]): boolean {
    if (this.info.transport === 'websocket') return this.#write(Buffer.concat(parts));
    let written = true;
    for (const part of parts) written = this.#write(part);
    return written;
  }

  #onDrain(): void {
    if (this.#stream.isPaused()) this.#updateReading();
    for (const subscription of this.#owingSubscriptions) {
      const owed = subscription.owedCredit;
      subscription.owedCredit = 0;
      if (owed > 0) subscription.attachment?.grant(owed);
    }
    this.#owingSubscriptions.clear();
  }

  /** Removes a subscription's pending deliveries from the ack table (the core redelivers them). */
  forgetPending(subscription: ConsumerSubscription): void {
    for (const ackId of subscription.pending.keys()) this.pendingAcks.delete(ackId);
    subscription.pending.clear();
    this.#owingSubscriptions.delete(subscription);
  }

  // ---- ending ----

  #failed = false;

  /** Writes an ERROR frame for `error` and closes the connection (STOMP 1.2: ERROR). */
  fail(error: unknown, frame?: StompFrame, extraHeaders: HeaderEntry[] = []): void {
    if (this.#state === 'closed' || this.#failed) return;
    if (!(error instanceof WeirError)) {
      this.logger.error('internal error in a STOMP handler', {
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    } else {
      this.logger.debug('ERROR frame', { code: error.code, error: error.message });
    }
    this.#failed = true;
    const explanation = error instanceof Error ? error.message : String(error);
    const headers: HeaderEntry[] = [
      ['message', errorMessageHeader(error)],
      ['content-type', 'text/plain'],
      ...extraHeaders,
    ];
    if (error instanceof WeirError) headers.push(['code', error.code]);
    const receipt = frame === undefined ? undefined : header(frame, 'receipt');
    if (receipt !== undefined) headers.push(['receipt-id', receipt]);
    const body =
      frame === undefined ? `${explanation}\n` : `${explanation}\n\nIn a ${frame.command} frame.\n`;
    this.sendFrame({ command: 'ERROR', headers, body: Buffer.from(body) });
    this.end();
  }

  /** Ends the connection after what was written has been flushed. */
  end(): void {
    if (this.#state === 'closed' || this.#state === 'closing') return;
    this.#state = 'closing';
    this.#queue.length = 0;
    this.#queueHead = 0;
    this.#stopTimers();
    this.#stream.end(() => this.#stream.destroy());
    this.#releaseSessionResources();
  }

  /** Closes at once, without flushing (server shutdown or a dead peer). */
  destroy(): void {
    this.#stream.destroy();
    this.#release();
  }

  #stopTimers(): void {
    this.#heartBeat.stop();
    this.#connectTimer?.cancel();
  }

  #released = false;

  #releaseSessionResources(): void {
    if (this.#released) return;
    this.#released = true;
    // Open transactions are aborted when the connection goes (STOMP 1.2: DISCONNECT); the
    // core aborts them with the session, returning their acked deliveries.
    this.transactions.clear();
    for (const subscription of this.subscriptions.values()) {
      if (subscription.kind === 'consumer') subscription.attachment?.close();
      else this.closeLive(subscription);
    }
    this.subscriptions.clear();
    // The core deletes the temporary queues with the session.
    for (const temp of this.tempQueues.values()) temp.subscription.attachment?.close();
    this.tempQueues.clear();
    this.pendingAcks.clear();
    const session = this.#session;
    this.#session = undefined;
    if (session !== undefined) {
      session.close().catch((error: unknown) => {
        this.logger.warn('closing the core session failed', {
          error: error instanceof Error ? error.message : String(error),
        });
      });
    }
  }

  #release(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#stopTimers();
    this.#releaseSessionResources();
    this.#onClosed(this);
  }

  /** The underlying stream, for the server's shutdown wait. */
  get closed(): boolean {
    return this.#state === 'closed';
  }
}
