// The core's one API (DESIGN.md §2): every protocol adapter and the in-process client call
// these operations and nothing else. Types only; the broker implements them.
//
// Shape: `Broker` owns streams and consumers and hands out `CoreSession`s, one per client
// connection. A session publishes, attaches to consumers (push, with credit), fetches
// (pull), acks, and holds live (non-durable) subscriptions. Everything a session owns —
// attachments, live subscriptions, inboxes, unacked deliveries — is released, and its
// unacked deliveries redelivered, when it closes.

import type { FsyncPolicy } from '../storage/log.js';

export type HeaderValue = string | number | boolean | Buffer;
export type Headers = Readonly<Record<string, HeaderValue>>;

/** One message model for all protocols (DESIGN.md §1). */
export interface Message {
  readonly subject: string;
  readonly key: string | undefined;
  readonly headers: Headers;
  /**
   * Shared, not copied: in process, every subscriber and the stream's log see this one
   * buffer, which is written to disk after delivery may have begun. Read it; never write it.
   */
  readonly body: Buffer;
  readonly id: string;
  readonly timestampMs: number;
  /** 0–9, default 4 (as JMS). */
  readonly priority: number;
  readonly expiresAtMs: number | undefined;
  readonly deliverAfterMs: number | undefined;
  readonly correlationId: string | undefined;
  readonly replyTo: string | undefined;
  readonly contentType: string | undefined;
  readonly persistent: boolean;
}

/** What a publisher gives; everything but subject and body has a default. */
export interface PublishInput {
  readonly subject: string;
  /** Not copied at publish: leave a Buffer or Uint8Array unchanged once it is published. */
  readonly body: Buffer | Uint8Array | string;
  readonly key?: string;
  readonly headers?: Headers;
  readonly id?: string;
  readonly priority?: number;
  readonly ttlMs?: number;
  readonly expiresAtMs?: number;
  readonly delayMs?: number;
  readonly deliverAfterMs?: number;
  readonly correlationId?: string;
  readonly replyTo?: string;
  readonly contentType?: string;
  readonly persistent?: boolean;
  /**
   * Idempotent producer stamp (from `initProducer`): the producer's sequence counts its
   * messages to one stream partition from 0. A retried sequence is confirmed with
   * `duplicate: true` and its original offset, not stored twice.
   */
  readonly producer?: ProducerStamp;
}

export interface ProducerStamp {
  readonly id: bigint;
  readonly epoch: number;
  readonly sequence: number;
}

/** A request: everything a publish takes but subject, body and replyTo, and a timeout. */
export type RequestOptions = Omit<PublishInput, 'subject' | 'body' | 'replyTo'> & {
  readonly timeoutMs: number;
};

/** A queue that lives as long as the session that made it. */
export interface TemporaryQueue {
  /** Publish here to enqueue. */
  readonly subject: string;
  /** Attach or fetch with this stream and consumer. */
  readonly stream: string;
  readonly consumer: string;
}

export interface TransactionOptions {
  /** Abort if not committed within this long; default Limits.transactionTimeoutMsDefault. */
  readonly timeoutMs?: number;
}

/**
 * Publishes and acks that happen together or not at all, across streams (transaction.ts).
 * Nothing is visible before commit; abort (or the timeout, or closing the session) returns
 * the acked deliveries to their consumers.
 */
/** `committed` once the commit point has passed, also when commit() rejected because a stream has not taken its messages yet. */
export type TransactionState = 'open' | 'committing' | 'committed' | 'aborted';

export interface Transaction {
  readonly id: string;
  readonly state: TransactionState;
  /** Buffers a message; throws WEIR_NO_STREAM, WEIR_LIMIT_EXCEEDED, WEIR_TRANSACTION_ABORTED. */
  publish(input: PublishInput): void;
  /** Acks a delivery when the transaction commits; throws WEIR_STALE_ACK for an old attempt. */
  ack(delivery: Delivery): void;
  /** Resolves once committed and applied, with where each message was stored. */
  commit(): Promise<PublishAck[]>;
  abort(): Promise<void>;
}

/** An idempotent producer's identity: stamp publishes with it. */
export interface ProducerIdentity {
  readonly producerId: bigint;
  readonly epoch: number;
}

/** A confirmed publish: where the message was stored, once it is durable. */
export interface PublishAck {
  readonly stream: string;
  readonly partition: number;
  readonly offset: number;
  /**
   * True when dedup recognised a retry: confirmed, not stored again. `offset` is then the
   * original's, or -1 when a producer retried a sequence too old for its offset to be kept.
   */
  readonly duplicate: boolean;
  /**
   * True when the message waits in the stream's delay index (deliver-after in the future):
   * durable, and appended with its offset when due; `offset` is -1 until then.
   */
  readonly delayed?: boolean;
}

/**
 * `compact`: like `limits` (replayable, the same limits apply), and compaction by key keeps
 * only the latest message of each key (its subject when it has no key) in sealed segments;
 * a message with an empty body deletes its key (a tombstone).
 */
export type Retention = 'limits' | 'interest' | 'workqueue' | 'compact';
export type Discard = 'old' | 'new';
export type StorageKind = 'file' | 'memory';

export interface StreamConfig {
  readonly name: string;
  /** Subject filters the stream captures (`*`, `>` allowed). */
  readonly subjects: readonly string[];
  readonly retention: Retention;
  readonly maxAgeMs: number | undefined;
  readonly maxBytes: number | undefined;
  readonly maxMessages: number | undefined;
  readonly discard: Discard;
  readonly storage: StorageKind;
  readonly partitions: number;
  readonly fsync: FsyncPolicy;
  /** Where dead letters go; default `$DLQ.<name>`. */
  readonly deadLetterSubject: string;
  /**
   * The message-id dedup window: a publish whose message id was stored this recently is
   * confirmed as a duplicate, not stored. Undefined: no window.
   */
  readonly dedupWindowMs?: number;
  /** Ids the window holds at most (its memory is fixed by this; see dedup/message-id-window.ts). */
  readonly dedupWindowIds?: number;
  /**
   * Expired messages are dead-lettered with reason `expired` (the default), or, with false,
   * dropped (acked and counted in `expiredMessages`). Never delivered either way.
   */
  readonly deadLetterExpired?: boolean;
  /** `retention: compact` only: how long a tombstone stays before compaction drops it. */
  readonly tombstoneRetentionMs?: number;
  /**
   * `retention: compact` only: compact when the sealed bytes not compacted yet are at least
   * this share of all sealed bytes (0 … 1).
   */
  readonly compactionDirtyRatio?: number;
  /** `retention: compact` only: how often the dirty ratio is checked. */
  readonly compactionIntervalMs?: number;
}

export type StreamConfigInput = Partial<Omit<StreamConfig, 'name' | 'subjects'>> &
  Pick<StreamConfig, 'name' | 'subjects'>;

export type DeliverPolicy =
  | { readonly kind: 'all' }
  | { readonly kind: 'new' }
  | { readonly kind: 'last' }
  | { readonly kind: 'last_per_subject' }
  | { readonly kind: 'offset'; readonly offset: number }
  | { readonly kind: 'time'; readonly timeMs: number };

export type AckPolicy = 'none' | 'explicit';
export type Dispatch = 'exclusive' | 'failover' | 'shared' | 'key_shared';

export interface ConsumerConfig {
  readonly name: string;
  readonly durable: boolean;
  readonly filterSubject: string | undefined;
  readonly deliverPolicy: DeliverPolicy;
  readonly ackPolicy: AckPolicy;
  readonly ackWaitMs: number;
  /** Deliveries before the message is dead-lettered; -1 for unlimited. */
  readonly maxDeliver: number;
  /** Redelivery delays by attempt; the last entry repeats. */
  readonly backoffMs: readonly number[];
  /** Unacked deliveries across all attached clients before delivery pauses. */
  readonly maxAckPending: number;
  readonly dispatch: Dispatch;
  /**
   * A JMS message selector (SQL-92 subset over headers and JMS fields); only messages it
   * selects are delivered. See consumer-selection.ts and selector/selector.ts.
   */
  readonly selector?: string;
}

export type ConsumerConfigInput = Partial<ConsumerConfig> & Pick<ConsumerConfig, 'name'>;

/** A message handed to a consumer's client. */
export interface Delivery {
  readonly message: Message;
  readonly stream: string;
  readonly consumer: string;
  readonly partition: number;
  readonly offset: number;
  /** 1 on first delivery; an ack or nack must name the attempt it answers. */
  readonly deliveryCount: number;
  readonly redelivered: boolean;
}

export interface NackOptions {
  readonly delayMs?: number;
  /** Error text kept with the message, and in dead-letter headers. */
  readonly reason?: string;
}

export interface AckOptions {
  /** Exclusive and failover consumers only: also ack every earlier in-flight delivery. */
  readonly cumulative?: boolean;
}

/** What an ack, nack or term did: `stale` (an old attempt) and `duplicate` changed nothing. */
export type AckOutcome = 'acked' | 'duplicate' | 'stale';

export interface PartitionInfo {
  readonly partition: number;
  readonly firstOffset: number;
  /** The offset the next message will get. */
  readonly nextOffset: number;
  readonly messages: number;
  readonly bytes: number;
  /** Log segments on disk (or in memory), the active one included. */
  readonly segments: number;
}

export interface StreamInfo {
  readonly config: StreamConfig;
  readonly messages: number;
  readonly bytes: number;
  readonly consumers: number;
  readonly partitions: readonly PartitionInfo[];
  readonly published: number;
  readonly rejectedFull: number;
  /** Compactions of the stream's consumer-state log since the broker opened. */
  readonly consumerStateSnapshots: number;
  /** Delayed messages waiting in the stream's delay index. */
  readonly delayed: number;
  /** Publishes recognised as duplicates (producer retries, message ids in the window). */
  readonly duplicates: number;
  /** Compaction runs that rewrote a partition's segments since the broker opened (`compact`). */
  readonly compactions: number;
}

export interface ConsumerInfo {
  readonly stream: string;
  readonly config: ConsumerConfig;
  /** Delivered, not yet acked (in flight, waiting for redelivery, being dead-lettered). */
  readonly ackPending: number;
  /** Messages not yet delivered (for filtered consumers: an upper bound). */
  readonly pending: number;
  readonly ackFloors: readonly number[];
  readonly attached: number;
  /** Why delivery of new messages is paused, if it is. */
  readonly paused: 'ack_pending' | 'ack_holes' | undefined;
  readonly memoryBytes: number;
  readonly delivered: number;
  readonly redelivered: number;
  readonly acked: number;
  readonly nacked: number;
  readonly expiredAckWaits: number;
  readonly staleAcks: number;
  readonly duplicateAcks: number;
  readonly deadLettered: number;
  readonly deadLetterFailures: number;
  readonly expiredMessages: number;
  readonly pausedByAckPending: number;
  readonly pausedByAckHoles: number;
  readonly scanSkipped: number;
  /** Messages the consumer's selector did not select, settled without delivery. */
  readonly selectorSkipped: number;
}

/** Which dead letters `redrive` republishes, from a dead-letter stream. */
export interface RedriveSelection {
  readonly partition?: number;
  /** Exactly these offsets. */
  readonly offsets?: readonly number[];
  /** Or a range: from this offset (default the first) … */
  readonly fromOffset?: number;
  /** … up to, not including, this one (default the end). */
  readonly toOffset?: number;
  readonly maxMessages?: number;
}

export interface RedriveResult {
  readonly redriven: number;
  /** Selected messages that were not dead letters. */
  readonly skipped: number;
}

/** A client's attachment to a consumer for push delivery. */
export interface Attachment {
  /** Adds credit: the broker sends at most this many more deliveries. */
  grant(credit: number): void;
  /** Detaches; unacked deliveries of this attachment are redelivered. */
  close(): void;
}

export interface AttachOptions {
  /** Initial credit. */
  readonly credit: number;
  /** Each ack, nack or term returns one credit (prefetch semantics). Default true. */
  readonly creditOnAck?: boolean;
  readonly onDelivery: (delivery: Delivery) => void;
  /** The consumer was deleted or the attachment refused; the attachment is closed. */
  readonly onClosed?: (error: Error | undefined) => void;
}

export type SlowConsumerPolicy = 'drop_oldest' | 'disconnect';

export interface LiveSubscribeOptions {
  readonly bufferMessagesMax?: number;
  readonly slowConsumerPolicy?: SlowConsumerPolicy;
  /** For `$share/g/…` and STOMP/JMS shared non-durable subscriptions: one member per message. */
  readonly queueGroup?: string;
  readonly noLocal?: boolean;
  readonly onMessage: (message: Message) => void;
  readonly onClosed?: (error: Error | undefined) => void;
}

export interface LiveSubscription {
  readonly droppedCount: number;
  close(): void;
}

/** How publishConfirmedThen reports: an error, or the ack once the message is durable. */
export type PublishConfirmCallback = (error: Error | undefined, ack: PublishAck | undefined) => void;

export interface CoreSession {
  readonly id: string;
  /**
   * Fire-and-forget: stored if a stream captures it, delivered to live subscribers; never
   * throws for lack of a stream (counted as dropped). Throws when the capturing stream refuses
   * the message (WEIR_STREAM_FULL under `discard: new`, WEIR_OVERLOADED when its append queue
   * is full) and for invalid input: a refused message is never dropped silently.
   */
  publish(input: PublishInput): void;
  /** Resolves once durable; rejects WEIR_NO_STREAM when no stream captures the subject. */
  publishConfirmed(input: PublishInput): Promise<PublishAck>;
  /**
   * publishConfirmed without a promise per message (protocol adapters confirming batches):
   * `done` runs exactly once, on a later turn, with the error or the ack.
   */
  publishConfirmedThen(input: PublishInput, done: PublishConfirmCallback): void;
  attach(stream: string, consumer: string, options: AttachOptions): Attachment;
  fetch(stream: string, consumer: string, options: { batch: number; expiresMs: number }): Promise<Delivery[]>;
  /**
   * Acks one delivery (with `cumulative`, on an exclusive or failover consumer, also every
   * earlier one in flight on that partition). Returns `stale` when the delivery is not the
   * current attempt (it was redelivered after its ack wait): rejected, counted, not applied.
   */
  ack(delivery: Delivery, options?: AckOptions): AckOutcome;
  nack(delivery: Delivery, options?: NackOptions): AckOutcome;
  /** Rejects the message for good: dead-lettered with reason `rejected`. */
  term(delivery: Delivery, reason?: string): AckOutcome;
  subscribeLive(filter: string, options: LiveSubscribeOptions): LiveSubscription;
  /**
   * An idempotent producer identity. With a name, the same producer id with the next epoch:
   * earlier instances of that name are fenced (WEIR_PRODUCER_FENCED).
   */
  initProducer(options?: { readonly name?: string }): Promise<ProducerIdentity>;
  /**
   * Publishes a request with a reply subject in this session's inbox and resolves with the
   * first reply. Fails with WEIR_NO_RESPONDERS (nothing took it), WEIR_TIMEOUT, WEIR_CLOSED.
   */
  request(subject: string, body: PublishInput['body'], options: RequestOptions): Promise<Message>;
  /** A subject for a temporary topic (live subscriptions only), owned by this session. */
  createTemporaryTopic(): string;
  /** A temporary queue (memory workqueue stream and consumer), deleted when this session closes. */
  createTemporaryQueue(): Promise<TemporaryQueue>;
  /** Begins a transaction (see Transaction). */
  beginTransaction(options?: TransactionOptions): Transaction;
  close(): Promise<void>;
}
