// The native protocol's frames as values. See codec/index.ts (and docs/protocol.md) for
// the byte layout of each.

import type { WireMessage, WirePublish } from './message-record.js';

/** Protocol versions this codec speaks; HELLO offers a range, WELCOME picks one. */
export const ProtocolVersion = { min: 1, max: 1 } as const;

/** "WEIR" in ASCII: the first payload bytes of HELLO, so a stray client fails at once. */
export const helloMagic = 0x57454952;

/** Bytes before a frame's payload: u32 length, u8 type, u8 flags, u32 request id. */
export const frameHeaderBytes = 10;

export const FrameType = {
  hello: 0x01,
  welcome: 0x02,
  ping: 0x03,
  pong: 0x04,
  error: 0x05,
  ok: 0x06,
  goodbye: 0x07,

  publish: 0x10,
  publishAck: 0x11,

  attach: 0x20,
  detach: 0x21,
  credit: 0x22,
  deliver: 0x23,
  subscriptionClosed: 0x24,
  subscribeLive: 0x25,
  liveDeliver: 0x26,
  fetch: 0x27,
  fetchResult: 0x28,

  streamCreate: 0x30,
  streamUpdate: 0x31,
  streamDelete: 0x32,
  streamInfo: 0x33,
  streamList: 0x34,
  streamPurge: 0x35,
  consumerCreate: 0x36,
  consumerDelete: 0x37,
  consumerInfo: 0x38,
  consumerList: 0x39,
  deadLetterRedrive: 0x3a,
  streamFind: 0x3b,
  queueEnsure: 0x3c,
  subscriptionEnsure: 0x3d,
  subscriptionDelete: 0x3e,
  adminResult: 0x3f,

  // Broker core II. Begin and abort are reserved (answered WEIR_NOT_SUPPORTED); PRODUCER_INIT
  // and the temporary destination frames (once reserved as inbox create and delete) have a
  // JSON body and are answered with ADMIN_RESULT.
  transactionBegin: 0x40,
  transactionCommit: 0x41,
  transactionAbort: 0x42,
  producerInit: 0x43,
  request: 0x48,
  response: 0x49,
  temporaryTopicCreate: 0x4a,
  temporaryQueueCreate: 0x4b,

  ack: 0x50,
  nack: 0x51,
  term: 0x52,
  settleResult: 0x53,
} as const;

export type FrameTypeNumber = (typeof FrameType)[keyof typeof FrameType];

/** Flag bits of the frame header. */
export const FrameFlags = {
  /** PUBLISH: the sender wants a PUBLISH_ACK once every message is durable. */
  confirm: 0x01,
  /** ERROR: the sender closes the connection after this frame. */
  fatal: 0x01,
  /** ACK: also ack every earlier delivery in flight on the partition (exclusive and failover consumers). */
  cumulative: 0x01,
  /** LIVE_DELIVER: a `u32` count of messages the broker dropped for the subscription follows the messages. */
  dropped: 0x01,
} as const;

/** The administration requests: each is its own frame type with a JSON body. */
export const AdminOperation = {
  streamCreate: FrameType.streamCreate,
  streamUpdate: FrameType.streamUpdate,
  streamDelete: FrameType.streamDelete,
  streamInfo: FrameType.streamInfo,
  streamList: FrameType.streamList,
  streamPurge: FrameType.streamPurge,
  consumerCreate: FrameType.consumerCreate,
  consumerDelete: FrameType.consumerDelete,
  consumerInfo: FrameType.consumerInfo,
  consumerList: FrameType.consumerList,
  deadLetterRedrive: FrameType.deadLetterRedrive,
  streamFind: FrameType.streamFind,
  queueEnsure: FrameType.queueEnsure,
  subscriptionEnsure: FrameType.subscriptionEnsure,
  subscriptionDelete: FrameType.subscriptionDelete,
  temporaryTopicCreate: FrameType.temporaryTopicCreate,
  temporaryQueueCreate: FrameType.temporaryQueueCreate,
  producerInit: FrameType.producerInit,
} as const;

export type AdminOperation = keyof typeof AdminOperation;

export const SlowConsumerCode = { default: 0, drop_oldest: 1, disconnect: 2 } as const;
export type WireSlowConsumerPolicy = 'drop_oldest' | 'disconnect';

export interface WireDelivery {
  readonly partition: number;
  readonly offset: number;
  readonly deliveryCount: number;
  readonly redelivered: boolean;
  readonly message: WireMessage;
}

export interface AckEntry {
  readonly partition: number;
  readonly offset: number;
  readonly deliveryCount: number;
}

export interface NackEntry extends AckEntry {
  readonly delayMs?: number;
  readonly reason?: string;
}

export interface TermEntry extends AckEntry {
  readonly reason?: string;
}

export type PublishResult =
  | {
      readonly ok: true;
      readonly stream: string;
      readonly partition: number;
      readonly offset: number;
      readonly duplicate: boolean;
    }
  | { readonly ok: false; readonly code: string; readonly message: string };

interface Base {
  /** 0 for frames that expect no answer; otherwise echoed by the answer. */
  readonly requestId: number;
}

export interface HelloFrame extends Base {
  readonly kind: 'hello';
  readonly versionMin: number;
  readonly versionMax: number;
  readonly clientName: string;
  readonly username?: string;
  readonly password?: Buffer;
  /** The interval the client proposes; 0 turns heartbeats off. */
  readonly heartbeatMs: number;
  /** The largest frame the client accepts. */
  readonly frameBytesMax: number;
}

export interface WelcomeFrame extends Base {
  readonly kind: 'welcome';
  readonly version: number;
  readonly serverName: string;
  readonly sessionId: string;
  readonly heartbeatMs: number;
  /** The largest frame the server accepts. */
  readonly frameBytesMax: number;
}

export interface PingFrame extends Base {
  readonly kind: 'ping';
}
export interface PongFrame extends Base {
  readonly kind: 'pong';
}
export interface OkFrame extends Base {
  readonly kind: 'ok';
}
export interface ErrorFrame extends Base {
  readonly kind: 'error';
  readonly fatal: boolean;
  readonly code: string;
  readonly message: string;
}
export interface GoodbyeFrame extends Base {
  readonly kind: 'goodbye';
  readonly reason: string;
}
export interface PublishFrame extends Base {
  readonly kind: 'publish';
  readonly confirm: boolean;
  readonly messages: readonly WirePublish[];
}
export interface PublishAckFrame extends Base {
  readonly kind: 'publishAck';
  readonly results: readonly PublishResult[];
}
export interface AttachFrame extends Base {
  readonly kind: 'attach';
  readonly subscriptionId: number;
  readonly stream: string;
  readonly consumer: string;
  readonly credit: number;
  readonly creditOnAck: boolean;
}
export interface DetachFrame extends Base {
  readonly kind: 'detach';
  readonly subscriptionId: number;
}
export interface CreditFrame extends Base {
  readonly kind: 'credit';
  readonly subscriptionId: number;
  readonly credit: number;
}
export interface DeliverFrame extends Base {
  readonly kind: 'deliver';
  readonly subscriptionId: number;
  readonly deliveries: readonly WireDelivery[];
}
export interface SubscriptionClosedFrame extends Base {
  readonly kind: 'subscriptionClosed';
  readonly subscriptionId: number;
  readonly error?: { readonly code: string; readonly message: string };
}
export interface SubscribeLiveFrame extends Base {
  readonly kind: 'subscribeLive';
  readonly subscriptionId: number;
  readonly filter: string;
  readonly queueGroup?: string;
  readonly noLocal: boolean;
  readonly bufferMessagesMax?: number;
  readonly slowConsumerPolicy?: WireSlowConsumerPolicy;
}
export interface LiveDeliverFrame extends Base {
  readonly kind: 'liveDeliver';
  readonly subscriptionId: number;
  readonly messages: readonly WireMessage[];
  /**
   * Messages the broker dropped for this subscription (slow-consumer policy `drop_oldest`)
   * since its previous LIVE_DELIVER; absent or 0 when none were.
   */
  readonly droppedCount?: number;
}
export interface FetchFrame extends Base {
  readonly kind: 'fetch';
  readonly stream: string;
  readonly consumer: string;
  readonly batch: number;
  readonly expiresMs: number;
}
export interface FetchResultFrame extends Base {
  readonly kind: 'fetchResult';
  readonly deliveries: readonly WireDelivery[];
}
export interface AckFrame extends Base {
  readonly kind: 'ack';
  readonly cumulative: boolean;
  readonly stream: string;
  readonly consumer: string;
  readonly entries: readonly AckEntry[];
}
export interface NackFrame extends Base {
  readonly kind: 'nack';
  readonly stream: string;
  readonly consumer: string;
  readonly entries: readonly NackEntry[];
}
export interface TermFrame extends Base {
  readonly kind: 'term';
  readonly stream: string;
  readonly consumer: string;
  readonly entries: readonly TermEntry[];
}
/** What each settled entry did, in order: the core's AckOutcome. */
export type SettleOutcome = 'acked' | 'duplicate' | 'stale';
export const SettleOutcomeCode = { acked: 0, duplicate: 1, stale: 2 } as const;
export interface SettleResultFrame extends Base {
  readonly kind: 'settleResult';
  readonly outcomes: readonly SettleOutcome[];
}
/** An ack inside a transaction: which consumer, and which attempt. */
export interface TransactionAck extends AckEntry {
  readonly stream: string;
  readonly consumer: string;
}
/**
 * TRANSACTION_COMMIT: publishes and acks applied together or not at all. The client gathers
 * a transaction and sends it whole; the broker runs it as one core transaction and answers
 * PUBLISH_ACK (one result per publish) once committed, or ERROR with nothing applied.
 */
export interface TransactionFrame extends Base {
  readonly kind: 'transaction';
  readonly timeoutMs: number;
  readonly messages: readonly WirePublish[];
  readonly acks: readonly TransactionAck[];
}
/** Publishes `message` with a reply subject in this connection's inbox; answered by RESPONSE. */
export interface RequestFrame extends Base {
  readonly kind: 'request';
  readonly timeoutMs: number;
  readonly message: WirePublish;
}
/** The first reply to a REQUEST. */
export interface ResponseFrame extends Base {
  readonly kind: 'response';
  readonly message: WireMessage;
}
export interface AdminFrame extends Base {
  readonly kind: 'admin';
  readonly operation: AdminOperation;
  /** A JSON value (an object for every operation). */
  readonly body: unknown;
}
export interface AdminResultFrame extends Base {
  readonly kind: 'adminResult';
  readonly body: unknown;
}
/** A frame type this codec does not decode (reserved for later, or unknown): its payload is skipped. */
export interface UnsupportedFrame extends Base {
  readonly kind: 'unsupported';
  readonly type: number;
}

export type Frame =
  | HelloFrame
  | WelcomeFrame
  | PingFrame
  | PongFrame
  | OkFrame
  | ErrorFrame
  | GoodbyeFrame
  | PublishFrame
  | PublishAckFrame
  | AttachFrame
  | DetachFrame
  | CreditFrame
  | DeliverFrame
  | SubscriptionClosedFrame
  | SubscribeLiveFrame
  | LiveDeliverFrame
  | FetchFrame
  | FetchResultFrame
  | AckFrame
  | NackFrame
  | TermFrame
  | SettleResultFrame
  | RequestFrame
  | TransactionFrame
  | ResponseFrame
  | AdminFrame
  | AdminResultFrame
  | UnsupportedFrame;

export type FrameKind = Frame['kind'];
