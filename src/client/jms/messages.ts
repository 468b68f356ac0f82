// JMS messages, mapped onto Weir's one message model so other protocols can read them:
//
//   JMS                      Weir message
//   body of TextMessage      body, UTF-8; content type text/plain; charset=utf-8
//   body of BytesMessage     body as is; application/octet-stream
//   Map/Object/StreamMessage body as JSON (an object, any value, an array); application/json
//   message type             header jms-message-type: text | bytes | map | object | stream
//   properties               headers (string, number, boolean, bytes)
//   JMSMessageID             id            JMSTimestamp      timestampMs
//   JMSPriority              priority      JMSExpiration     expiresAtMs (0: never)
//   JMSDeliveryMode          persistent    JMSDeliveryTime   deliverAfterMs
//   JMSCorrelationID         correlationId JMSReplyTo        replyTo (+ header jms-reply-to-kind)
//   JMSType                  header jms-type
//   JMSRedelivered           redelivered   JMSXDeliveryCount deliveryCount
//
// A message from another protocol without jms-message-type is a TextMessage when its
// content type is text/* and a BytesMessage otherwise.

import { ErrorCode, InvalidArgumentError, WeirError } from '../../common/errors.js';
import type { HeaderValue, Headers } from '../../core/api.js';
import type { ReceivedMessage } from '../types.js';
import {
  DeliveryMode,
  defaultPriority,
  jmsTypeHeader,
  messageTypeHeader,
  replyToKindHeader,
} from './constants.js';
import type { Destination } from './destinations.js';
import { destinationFromReplyTo, subjectOf } from './destinations.js';

export type PropertyValue = HeaderValue;
export type MessageType = 'text' | 'bytes' | 'map' | 'object' | 'stream';

/** Acknowledges a received message according to its session's acknowledge mode. */
export interface Acknowledger {
  acknowledge(message: Message): void;
}

const reservedHeaders = new Set([messageTypeHeader, jmsTypeHeader, replyToKindHeader]);

export abstract class Message {
  abstract readonly type: MessageType;
  JMSMessageID: string | undefined;
  JMSTimestamp = 0;
  JMSCorrelationID: string | undefined;
  JMSReplyTo: Destination | undefined;
  JMSDestination: Destination | undefined;
  JMSDeliveryMode: DeliveryMode = DeliveryMode.PERSISTENT;
  JMSPriority = defaultPriority;
  /** Absolute expiry in ms since the epoch; 0 never expires. */
  JMSExpiration = 0;
  JMSDeliveryTime = 0;
  JMSRedelivered = false;
  JMSType: string | undefined;
  readonly #properties = new Map<string, PropertyValue>();
  /** Set on received messages. */
  received: ReceivedMessage | undefined;
  acknowledger: Acknowledger | undefined;

  setProperty(name: string, value: PropertyValue): void {
    if (reservedHeaders.has(name)) throw new InvalidArgumentError(`property name ${name} is reserved`);
    this.#properties.set(name, value);
  }

  getProperty(name: string): PropertyValue | undefined {
    if (name === 'JMSXDeliveryCount') return this.received?.deliveryCount ?? 0;
    return this.#properties.get(name);
  }

  propertyExists(name: string): boolean {
    return this.#properties.has(name);
  }

  propertyNames(): string[] {
    return [...this.#properties.keys()];
  }

  clearProperties(): void {
    this.#properties.clear();
  }

  /** Acknowledges per the session's mode (CLIENT: everything delivered so far; INDIVIDUAL: this one). */
  acknowledge(): void {
    if (this.acknowledger === undefined) {
      throw new WeirError(ErrorCode.InvalidArgument, 'only a received message can be acknowledged');
    }
    this.acknowledger.acknowledge(this);
  }

  /** The body as bytes, with its content type. */
  abstract encodeBody(): { body: Buffer; contentType: string };
  /** Fills the body from received bytes. */
  abstract decodeBody(body: Buffer): void;

  headers(): Record<string, HeaderValue> {
    const headers: Record<string, HeaderValue> = Object.fromEntries(this.#properties);
    headers[messageTypeHeader] = this.type;
    if (this.JMSType !== undefined) headers[jmsTypeHeader] = this.JMSType;
    if (this.JMSReplyTo !== undefined) {
      headers[replyToKindHeader] =
        this.JMSReplyTo.kind === 'topic' || this.JMSReplyTo.kind === 'temporary-topic' ? 'topic' : 'queue';
    }
    return headers;
  }

  loadProperties(headers: Headers): void {
    for (const [name, value] of Object.entries(headers)) {
      if (!reservedHeaders.has(name)) this.#properties.set(name, value);
    }
  }
}

export class TextMessage extends Message {
  readonly type = 'text' as const;
  text: string | undefined;

  constructor(text?: string) {
    super();
    this.text = text;
  }

  encodeBody(): { body: Buffer; contentType: string } {
    return { body: Buffer.from(this.text ?? '', 'utf8'), contentType: 'text/plain; charset=utf-8' };
  }

  decodeBody(body: Buffer): void {
    this.text = body.toString('utf8');
  }
}

export class BytesMessage extends Message {
  readonly type = 'bytes' as const;
  #chunks: Buffer[] = [];
  #body: Buffer | undefined;
  #readPosition = 0;

  get bodyLength(): number {
    return this.#bodyBuffer().length;
  }

  writeBytes(bytes: Uint8Array): void {
    this.#chunks.push(Buffer.from(bytes));
    this.#body = undefined;
  }

  writeUTF(text: string): void {
    this.writeBytes(Buffer.from(text, 'utf8'));
  }

  /** Reads up to `length` bytes (default: the rest) from the read position. */
  readBytes(length?: number): Buffer {
    const body = this.#bodyBuffer();
    const end = length === undefined ? body.length : Math.min(body.length, this.#readPosition + length);
    const bytes = body.subarray(this.#readPosition, end);
    this.#readPosition = end;
    return bytes;
  }

  reset(): void {
    this.#readPosition = 0;
  }

  #bodyBuffer(): Buffer {
    this.#body ??= Buffer.concat(this.#chunks);
    return this.#body;
  }

  encodeBody(): { body: Buffer; contentType: string } {
    return { body: this.#bodyBuffer(), contentType: 'application/octet-stream' };
  }

  decodeBody(body: Buffer): void {
    this.#chunks = [body];
    this.#body = body;
    this.#readPosition = 0;
  }
}

export type MapValue = string | number | boolean | null;

export class MapMessage extends Message {
  readonly type = 'map' as const;
  readonly #entries = new Map<string, MapValue>();

  set(name: string, value: MapValue): void {
    this.#entries.set(name, value);
  }

  get(name: string): MapValue | undefined {
    return this.#entries.get(name);
  }

  itemExists(name: string): boolean {
    return this.#entries.has(name);
  }

  names(): string[] {
    return [...this.#entries.keys()];
  }

  encodeBody(): { body: Buffer; contentType: string } {
    return {
      body: Buffer.from(JSON.stringify(Object.fromEntries(this.#entries))),
      contentType: 'application/json',
    };
  }

  decodeBody(body: Buffer): void {
    const value = parseJson(body);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new WeirError(ErrorCode.InvalidArgument, 'a MapMessage body must be a JSON object');
    }
    for (const [name, item] of Object.entries(value)) this.#entries.set(name, item as MapValue);
  }
}

export class ObjectMessage extends Message {
  readonly type = 'object' as const;
  object: unknown;

  constructor(object?: unknown) {
    super();
    this.object = object;
  }

  encodeBody(): { body: Buffer; contentType: string } {
    return { body: Buffer.from(JSON.stringify(this.object ?? null)), contentType: 'application/json' };
  }

  decodeBody(body: Buffer): void {
    this.object = parseJson(body);
  }
}

export class StreamMessage extends Message {
  readonly type = 'stream' as const;
  #items: MapValue[] = [];
  #readPosition = 0;

  write(value: MapValue): void {
    this.#items.push(value);
  }

  /** The next value, or undefined at the end of the stream. */
  read(): MapValue | undefined {
    return this.#items[this.#readPosition++];
  }

  reset(): void {
    this.#readPosition = 0;
  }

  encodeBody(): { body: Buffer; contentType: string } {
    return { body: Buffer.from(JSON.stringify(this.#items)), contentType: 'application/json' };
  }

  decodeBody(body: Buffer): void {
    const value = parseJson(body);
    if (!Array.isArray(value))
      throw new WeirError(ErrorCode.InvalidArgument, 'a StreamMessage body must be a JSON array');
    this.#items = value as MapValue[];
    this.#readPosition = 0;
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw new WeirError(ErrorCode.InvalidArgument, `message body is not JSON: ${(error as Error).message}`);
  }
}

function messageOfType(type: unknown, contentType: string | undefined): Message {
  switch (type) {
    case 'text':
      return new TextMessage();
    case 'bytes':
      return new BytesMessage();
    case 'map':
      return new MapMessage();
    case 'object':
      return new ObjectMessage();
    case 'stream':
      return new StreamMessage();
    default:
      return contentType?.startsWith('text/') === true ? new TextMessage() : new BytesMessage();
  }
}

/** A received Weir message as a JMS message. */
export function fromReceived(
  received: ReceivedMessage,
  destination: Destination,
  acknowledger: Acknowledger | undefined,
): Message {
  const message = messageOfType(received.headers[messageTypeHeader], received.contentType);
  message.decodeBody(received.body);
  message.loadProperties(received.headers);
  message.JMSMessageID = received.id;
  message.JMSTimestamp = received.timestampMs;
  message.JMSCorrelationID = received.correlationId;
  message.JMSReplyTo = destinationFromReplyTo(received.replyTo, received.headers[replyToKindHeader]);
  message.JMSDestination = destination;
  // Expiry, delay and persistence are on the network client's messages (NetworkMessage).
  const system = received as Partial<{ persistent: boolean; expiresAtMs: number; deliverAfterMs: number }>;
  message.JMSDeliveryMode =
    system.persistent === false ? DeliveryMode.NON_PERSISTENT : DeliveryMode.PERSISTENT;
  message.JMSPriority = received.priority;
  message.JMSExpiration = system.expiresAtMs ?? 0;
  message.JMSDeliveryTime = system.deliverAfterMs ?? received.timestampMs;
  message.JMSRedelivered = received.redelivered;
  const jmsType = received.headers[jmsTypeHeader];
  message.JMSType = typeof jmsType === 'string' ? jmsType : undefined;
  message.received = received;
  message.acknowledger = acknowledger;
  return message;
}

export interface SendSettings {
  readonly deliveryMode: DeliveryMode;
  readonly priority: number;
  readonly timeToLiveMs: number;
  readonly deliveryDelayMs: number;
}

/** A JMS message as what the client publishes. */
export function toPublish(message: Message, destination: Destination, settings: SendSettings) {
  const { body, contentType } = message.encodeBody();
  return {
    subject: subjectOf(destination),
    body,
    headers: message.headers(),
    contentType,
    priority: settings.priority,
    persistent: settings.deliveryMode === DeliveryMode.PERSISTENT,
    ...(settings.timeToLiveMs > 0 ? { ttlMs: settings.timeToLiveMs } : {}),
    ...(settings.deliveryDelayMs > 0 ? { delayMs: settings.deliveryDelayMs } : {}),
    ...(message.JMSCorrelationID !== undefined ? { correlationId: message.JMSCorrelationID } : {}),
    ...(message.JMSReplyTo !== undefined ? { replyTo: subjectOf(message.JMSReplyTo) } : {}),
  };
}
