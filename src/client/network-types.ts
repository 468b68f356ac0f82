// The network client's options and results. The in-process client (core) implements the
// same Client interface; where a type is the core's, it is re-used, not copied.

import type {
  ConsumerConfigInput,
  PublishAck,
  PublishInput,
  SlowConsumerPolicy,
  StreamConfigInput,
} from '../core/api.js';
import type { ReceivedMessage } from './network-message.js';
import type { MessageHandler } from './network-subscription.js';

export type Body = Buffer | Uint8Array | string;

/** Everything of a publish but subject and body. */
export type PublishOptions = Omit<PublishInput, 'subject' | 'body'>;

export interface SubscribeOptions {
  /** One member of the group gets each message (a shared non-durable subscription). */
  readonly queueGroup?: string;
  /** Do not receive what this connection published. */
  readonly noLocal?: boolean;
  /** Messages held while the application falls behind; the oldest are dropped past this. */
  readonly bufferMessagesMax?: number;
  readonly slowConsumerPolicy?: SlowConsumerPolicy;
  /** Called per message in order; without it, iterate the subscription. */
  readonly handler?: MessageHandler;
  /** Where handler errors go; default: the client's 'error' event. */
  readonly onError?: (error: unknown, message: ReceivedMessage) => void;
}

export interface ConsumeOptions {
  /** Prefetch: deliveries the broker may send ahead of what the application has taken. Default 1,000. */
  readonly credit?: number;
  readonly handler?: MessageHandler;
  /** `auto` (default for handlers): ack when the handler returns. `manual`: the application acks. */
  readonly ack?: 'auto' | 'manual';
  readonly onError?: (error: unknown, message: ReceivedMessage) => void;
}

export interface FetchOptions {
  /** Default 1. */
  readonly batch?: number;
  /** How long to wait for the first message. Default 5,000. */
  readonly expiresMs?: number;
}

export interface RequestOptions {
  readonly timeoutMs?: number;
  readonly headers?: PublishOptions['headers'];
}

/** Administration results are the broker's JSON documents (stream and consumer info). */
export type AdminDocument = Readonly<Record<string, unknown>>;

export interface StreamAdmin {
  create(config: StreamConfigInput): Promise<AdminDocument>;
  update(config: StreamConfigInput): Promise<AdminDocument>;
  delete(name: string): Promise<void>;
  info(name: string): Promise<AdminDocument>;
  list(): Promise<AdminDocument[]>;
  purge(name: string): Promise<void>;
}

export interface ConsumerAdmin {
  create(stream: string, config: ConsumerConfigInput): Promise<AdminDocument>;
  delete(stream: string, name: string): Promise<void>;
  info(stream: string, name: string): Promise<AdminDocument>;
  list(stream: string): Promise<AdminDocument[]>;
}

export interface DeadLetterAdmin {
  /** Republishes dead letters of `stream`'s dead-letter stream to their original subjects. */
  redrive(stream: string, options?: Readonly<Record<string, unknown>>): Promise<AdminDocument>;
}

export type { PublishAck };
