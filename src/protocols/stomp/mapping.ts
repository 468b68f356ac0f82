// STOMP ⇄ Weir: destinations, SEND headers → PublishInput, Message → MESSAGE headers
// (DESIGN.md §6).
//
// Destinations
//   /queue/x        queue x: a workqueue stream on subject x with the shared durable consumer x
//   /topic/x        topic x: a live subscription on filter x (`*` and `>` allowed), or, for a
//                   durable subscription, a durable consumer on an interest stream capturing x
//   /temp-queue/x   this connection's temporary queue x: a core temporary queue (a memory
//                   workqueue stream on an unguessable `$TMPQ.…` subject), deleted with the
//                   connection. A `reply-to:/temp-queue/x` on SEND is rewritten to
//                   `/reply-queue/<that subject>`, as RabbitMQ does, and the connection
//                   receives what is sent there without subscribing.
//   /reply-queue/s  the temporary queue whose subject is s (how a replier answers).
// Anything else (RabbitMQ's /exchange/ and /amq/queue/, bare names) is refused.
//
// In Weir a queue and a topic of the same name share the subject: a SEND to /topic/x is also
// stored by queue x if it exists, and the reverse. A message's `replyTo` holds a subject;
// it is shown to STOMP consumers as /reply-queue/s for temporary queues and /queue/s otherwise.
import type { HeaderValue, Message, PublishInput } from '../../core/api.js';
import { ErrorCode, WeirError } from '../../common/errors.js';
import { temporaryQueuePrefix } from '../../core/request-reply.js';
import { validateFilter, validateSubject } from '../../core/subject.js';
import { escapeHeader, type StompFrame, type StompVersion } from './codec/index.js';

export type Destination =
  | { readonly kind: 'queue'; readonly name: string }
  | { readonly kind: 'topic'; readonly filter: string }
  | { readonly kind: 'temp-queue'; readonly name: string }
  | { readonly kind: 'reply-queue'; readonly subject: string };

/** Subjects of the core's temporary queues (src/core/request-reply.ts). */
export { temporaryQueuePrefix };

export class StompMappingError extends WeirError {
  constructor(message: string, code: WeirError['code'] = ErrorCode.InvalidArgument) {
    super(code, message);
    this.name = 'StompMappingError';
  }
}

/** Parses a destination header; `forSubscribe` allows wildcards in topics. */
export function parseDestination(destination: string, forSubscribe: boolean): Destination {
  const prefixes = ['/queue/', '/topic/', '/temp-queue/', '/reply-queue/'] as const;
  const prefix = prefixes.find((candidate) => destination.startsWith(candidate));
  if (prefix === undefined) {
    throw new StompMappingError(
      `unknown destination '${destination}': Weir accepts /queue/<name>, /topic/<name>, /temp-queue/<name> and /reply-queue/<name>`,
      ErrorCode.NotSupported,
    );
  }
  const name = destination.slice(prefix.length);
  if (name === '') throw new StompMappingError(`destination '${destination}' has no name`);
  try {
    switch (prefix) {
      case '/queue/':
        validateSubject(name);
        return { kind: 'queue', name };
      case '/topic/':
        if (forSubscribe) validateFilter(name);
        else validateSubject(name);
        return { kind: 'topic', filter: name };
      case '/temp-queue/':
        validateSubject(name);
        return { kind: 'temp-queue', name };
      case '/reply-queue/':
        validateSubject(name);
        if (!name.startsWith(temporaryQueuePrefix)) {
          throw new StompMappingError(`'${destination}' is not a temporary queue of this broker`);
        }
        if (forSubscribe) {
          throw new StompMappingError(
            `cannot subscribe to '${destination}': only its owner receives from a temporary queue`,
          );
        }
        return { kind: 'reply-queue', subject: name };
    }
  } catch (error) {
    if (error instanceof StompMappingError) throw error;
    if (error instanceof WeirError) {
      throw new StompMappingError(`invalid destination '${destination}': ${error.message}`, error.code);
    }
    throw error;
  }
}

/** The destination a consumer sees for a message's `replyTo` subject. */
export function replyToDestination(subject: string): string {
  return subject.startsWith(temporaryQueuePrefix) ? `/reply-queue/${subject}` : `/queue/${subject}`;
}

/** Headers STOMP itself defines on SEND/MESSAGE: never copied into or out of message headers. */
const protocolHeaders = new Set([
  'destination',
  'receipt',
  'transaction',
  'content-length',
  'content-type',
  'persistent',
  'expires',
  'expiration',
  'priority',
  'reply-to',
  'correlation-id',
  'AMQ_SCHEDULED_DELAY',
  'x-delay',
  'message-id',
  'subscription',
  'ack',
  'redelivered',
  'timestamp',
]);

/** Headers Weir does not support yet: refused with an ERROR rather than ignored. */
const unsupportedSendHeaders: readonly string[] = [
  'AMQ_SCHEDULED_PERIOD',
  'AMQ_SCHEDULED_REPEAT',
  'AMQ_SCHEDULED_CRON',
];

function integerHeader(name: string, value: string, min: number, max: number): number {
  if (!/^-?[0-9]+$/.test(value)) throw new StompMappingError(`header ${name} '${value}' is not an integer`);
  const number = Number(value);
  if (number < min || number > max) {
    throw new StompMappingError(`header ${name} ${number} is outside ${min}..${max}`);
  }
  return number;
}

export interface SendMapping {
  readonly input: PublishInput;
  /** Body plus header bytes, for transaction limits. */
  readonly bytes: number;
}

/**
 * SEND frame → PublishInput. `subject` is the resolved destination subject; `replyTo`
 * has already been resolved to a subject by the caller (temporary queues rewritten).
 */
export function sendToPublishInput(
  frame: StompFrame,
  subject: string,
  replyTo: string | undefined,
): SendMapping {
  const headers: Record<string, HeaderValue> = {};
  let priority: number | undefined;
  let expiresAtMs: number | undefined;
  let ttlMs: number | undefined;
  let delayMs: number | undefined;
  let persistent: boolean | undefined;
  let contentType: string | undefined;
  let correlationId: string | undefined;
  const seen = new Set<string>();
  let bytes = frame.body.length;
  for (const [name, value] of frame.headers) {
    // STOMP 1.2: the first of repeated headers counts.
    if (seen.has(name)) continue;
    seen.add(name);
    bytes += name.length + value.length;
    if (unsupportedSendHeaders.includes(name)) {
      throw new StompMappingError(`header ${name} is not supported yet`, ErrorCode.NotSupported);
    }
    switch (name) {
      case 'persistent':
        persistent = value === 'true';
        break;
      case 'priority':
        priority = integerHeader(name, value, 0, 9);
        break;
      case 'expires': {
        // ActiveMQ: absolute time in ms since the epoch; 0 means never.
        const at = integerHeader(name, value, 0, Number.MAX_SAFE_INTEGER);
        if (at !== 0) expiresAtMs = at;
        break;
      }
      case 'expiration':
        // RabbitMQ: a time to live in ms.
        ttlMs = integerHeader(name, value, 0, Number.MAX_SAFE_INTEGER);
        break;
      case 'AMQ_SCHEDULED_DELAY':
      case 'x-delay': {
        const delay = integerHeader(name, value, 0, Number.MAX_SAFE_INTEGER);
        if (delay > 0) delayMs = delay;
        break;
      }
      case 'content-type':
        contentType = value;
        break;
      case 'correlation-id':
        correlationId = value;
        break;
      default:
        if (!protocolHeaders.has(name)) headers[name] = value;
    }
  }
  // Built field by field: exactOptionalPropertyTypes forbids explicit undefined, and this
  // runs once per SEND.
  const input: { -readonly [K in keyof PublishInput]: PublishInput[K] } = {
    subject,
    body: frame.body,
    headers,
  };
  if (priority !== undefined) input.priority = priority;
  if (expiresAtMs !== undefined) input.expiresAtMs = expiresAtMs;
  if (ttlMs !== undefined) input.ttlMs = ttlMs;
  if (delayMs !== undefined) input.delayMs = delayMs;
  if (persistent !== undefined) input.persistent = persistent;
  if (contentType !== undefined) input.contentType = contentType;
  if (correlationId !== undefined) input.correlationId = correlationId;
  if (replyTo !== undefined) input.replyTo = replyTo;
  return { input, bytes };
}

export interface MessageFrameInput {
  readonly message: Message;
  readonly destination: string;
  readonly subscriptionId: string;
  readonly messageId: string;
  /** The 1.2 `ack` header, for client and client-individual subscriptions. */
  readonly ackId: string | undefined;
  readonly redelivered: boolean;
  /**
   * Keep the message's fixed headers for other subscribers: worth it for live (topic)
   * messages, which the core hands to every matching subscription as one object; not for
   * queue deliveries, which each decode their own.
   */
  readonly shared: boolean;
}

const nul = Buffer.from([0]);

/**
 * The headers of a MESSAGE that depend on the message alone, escaped and with
 * content-length, per version. Cached per message, because a topic message goes to many
 * subscribers and only subscription, message-id, destination and ack differ between them.
 */
const fixedHeadersCache = new WeakMap<Message, Partial<Record<StompVersion, string>>>();

function fixedHeaders(message: Message, version: StompVersion, shared: boolean): string {
  let cached = shared ? fixedHeadersCache.get(message) : undefined;
  const hit = cached?.[version];
  if (hit !== undefined) return hit;
  let text = '';
  const add = (name: string, value: string): void => {
    text += `${escapeHeader(name, version)}:${escapeHeader(value, version)}\n`;
  };
  if (message.contentType !== undefined) add('content-type', message.contentType);
  text += `persistent:${message.persistent ? 'true' : 'false'}\npriority:${message.priority}\n`;
  text += `timestamp:${message.timestampMs}\nexpires:${message.expiresAtMs ?? 0}\n`;
  if (message.correlationId !== undefined) add('correlation-id', message.correlationId);
  if (message.replyTo !== undefined) add('reply-to', replyToDestination(message.replyTo));
  for (const [name, value] of Object.entries(message.headers)) {
    if (protocolHeaders.has(name)) continue;
    add(name, Buffer.isBuffer(value) ? value.toString('utf8') : String(value));
  }
  text += `content-length:${message.body.length}\n`;
  if (!shared) return text;
  if (cached === undefined) {
    cached = {};
    fixedHeadersCache.set(message, cached);
  }
  cached[version] = text;
  return text;
}

/**
 * A MESSAGE frame as buffers to write in order: the head, the message body itself (not
 * copied) and the closing NUL. Custom message headers become STOMP headers.
 */
export function encodeMessage(input: MessageFrameInput, version: StompVersion): Buffer[] {
  let head = `MESSAGE\nsubscription:${escapeHeader(input.subscriptionId, version)}\nmessage-id:${escapeHeader(input.messageId, version)}\ndestination:${escapeHeader(input.destination, version)}\n`;
  if (input.ackId !== undefined) head += `ack:${escapeHeader(input.ackId, version)}\n`;
  if (input.redelivered) head += 'redelivered:true\n';
  head += fixedHeaders(input.message, version, input.shared);
  head += '\n';
  return [Buffer.from(head, 'utf8'), input.message.body, nul];
}

/** Destination shown on a MESSAGE for a subscription. */
export function messageDestination(destination: Destination, subject: string): string {
  switch (destination.kind) {
    case 'queue':
      return `/queue/${destination.name}`;
    case 'topic':
      return `/topic/${subject}`;
    case 'temp-queue':
      return `/temp-queue/${destination.name}`;
    case 'reply-queue':
      return `/reply-queue/${destination.subject}`;
  }
}
