// MQTT ⇄ core (DESIGN.md §6): topic names and filters to subjects, PUBLISH to the core's
// message model and back, and WeirError codes to MQTT reason codes (the one table).
//
// Topics and subjects. A topic level becomes a subject token: `a/b/c` ↔ `a.b.c`, `+` ↔ `*`,
// `#` ↔ `>`. A filter ending in `#` also matches its parent level [MQTT-4.7.1-2], which a
// subject filter cannot say in one filter, so `a/#` becomes the two filters `a` and `a.>`.
// MQTT allows levels that a subject token cannot hold — empty levels (`a//b`, `/a`), and
// `.`, `*`, `>`, whitespace and control characters inside a level — so a level is escaped:
//
//   - an empty level becomes the token `%` (alone, it cannot be any other escape);
//   - `%`, `.`, `*`, `>`, whitespace and control characters become `%XX` per UTF-8 byte;
//   - everything else is kept as it is.
//
// The mapping is a bijection on MQTT topic names: `a.b/c` ↔ `a%2Eb.c`, `/x` ↔ `%.x`. A native
// publisher that wants to reach MQTT subscribers of `a.b/c` publishes to `a%2Eb.c`. The other
// way, a subject token that holds `/`, `+` or `#` (legal in a subject, not in a topic level)
// reaches MQTT with those characters escaped as `%2F`, `%2B`, `%23`.
//
// Message fields. User properties ↔ headers (a repeated property name keeps all its values
// in order: the header holds a JSON array and `$mqtt.lists` names such headers); content type
// ↔ contentType; response topic ↔ replyTo (as a subject, so native replies reach it);
// correlation data ↔ correlationId when it is UTF-8, else the header `$mqtt.correlation`;
// message expiry interval ↔ ttlMs / expiresAtMs; the publish QoS, retain flag, payload
// format indicator and the publishing client travel in `$mqtt.*` headers, which the mapping
// back strips. Header names starting with `$mqtt.` are reserved for this; a client's user
// property of that name is dropped.

import { ErrorCode, WeirError, isWeirError } from '../../common/errors.js';
import type { HeaderValue, Message, PublishInput } from '../../core/api.js';
import { setHeader } from '../../core/message.js';
import type { PublishPacket, Qos, UserProperties } from './codec/packets.js';
import { ReasonCode } from './codec/reason-codes.js';

/** A topic name or filter that MQTT or the subject rules refuse. */
export class InvalidTopicError extends WeirError {
  readonly reasonCode: number;
  constructor(message: string, reasonCode: number) {
    super(ErrorCode.InvalidSubject, message);
    this.name = 'InvalidTopicError';
    this.reasonCode = reasonCode;
  }
}

export const internalHeader = {
  qos: '$mqtt.qos',
  retain: '$mqtt.retain',
  publisher: '$mqtt.publisher',
  payloadFormat: '$mqtt.utf8',
  correlation: '$mqtt.correlation',
  lists: '$mqtt.lists',
} as const;

const internalHeaderPrefix = '$mqtt.';

// ---------------------------------------------------------------------------------------
// Topic names and filters

const topicBytesMax = 65_535;

/**
 * MQTT's own rules for a topic name in PUBLISH: non-empty [MQTT-4.7.3-1], no wildcards
 * [MQTT-3.3.2-2], no U+0000 [MQTT-4.7.3-2], at most 65,535 bytes.
 */
export function validateTopicName(topic: string): void {
  if (topic.length === 0) throw new InvalidTopicError('topic name is empty', ReasonCode.topicNameInvalid);
  for (let index = 0; index < topic.length; index++) {
    const code = topic.charCodeAt(index);
    if (code === 0x2b || code === 0x23) {
      throw new InvalidTopicError(
        `topic name ${JSON.stringify(topic)} contains a wildcard`,
        ReasonCode.topicNameInvalid,
      );
    }
    if (code === 0) throw new InvalidTopicError('topic name contains U+0000', ReasonCode.topicNameInvalid);
  }
  if (topic.length * 3 > topicBytesMax && Buffer.byteLength(topic) > topicBytesMax) {
    throw new InvalidTopicError('topic name is longer than 65,535 bytes', ReasonCode.topicNameInvalid);
  }
}

/**
 * MQTT's rules for a topic filter: non-empty [MQTT-4.7.3-1]; `#` only alone as the last
 * level [MQTT-4.7.1-2]; `+` only as a whole level [MQTT-4.7.1-3]; no U+0000 [MQTT-4.7.3-2].
 */
export function validateTopicFilter(filter: string): void {
  if (filter.length === 0)
    throw new InvalidTopicError('topic filter is empty', ReasonCode.topicFilterInvalid);
  const levels = filter.split('/');
  for (let index = 0; index < levels.length; index++) {
    const level = levels[index] as string;
    if (level.includes('\u0000')) {
      throw new InvalidTopicError('topic filter contains U+0000', ReasonCode.topicFilterInvalid);
    }
    if (level.includes('#') && (level !== '#' || index !== levels.length - 1)) {
      throw new InvalidTopicError(
        `topic filter ${JSON.stringify(filter)}: '#' must be the whole last level`,
        ReasonCode.topicFilterInvalid,
      );
    }
    if (level.includes('+') && level !== '+') {
      throw new InvalidTopicError(
        `topic filter ${JSON.stringify(filter)}: '+' must be a whole level`,
        ReasonCode.topicFilterInvalid,
      );
    }
  }
}

export interface SharedFilter {
  readonly group: string;
  readonly filter: string;
}

/** `$share/<group>/<filter>` (MQTT 5.0 §4.8.2), or undefined for an ordinary filter. */
export function parseSharedFilter(filter: string): SharedFilter | undefined {
  if (!filter.startsWith('$share/')) return undefined;
  const rest = filter.slice('$share/'.length);
  const slash = rest.indexOf('/');
  const group = slash === -1 ? rest : rest.slice(0, slash);
  // [MQTT-4.8.2-1]: a ShareName is at least one character, no `/`, `+` or `#`;
  // [MQTT-4.8.2-2]: it is followed by `/` and a topic filter.
  if (group.length === 0 || group.includes('+') || group.includes('#') || slash === -1) {
    throw new InvalidTopicError(
      `shared subscription ${JSON.stringify(filter)} needs $share/<name>/<filter>`,
      ReasonCode.topicFilterInvalid,
    );
  }
  const inner = rest.slice(slash + 1);
  validateTopicFilter(inner);
  return { group, filter: inner };
}

function mustEscape(code: number): boolean {
  return (
    code === 0x25 || // %
    code === 0x2e || // .
    code === 0x2a || // *
    code === 0x3e || // >
    code <= 0x20 ||
    (code >= 0x7f && code <= 0xa0) ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

function escapeLevel(level: string): string {
  if (level.length === 0) return '%';
  let needs = false;
  for (let index = 0; index < level.length; index++) {
    if (mustEscape(level.charCodeAt(index))) {
      needs = true;
      break;
    }
  }
  if (!needs) return level;
  let out = '';
  for (const character of level) {
    const code = character.codePointAt(0) as number;
    if (code > 0xffff || !mustEscape(code)) {
      out += character;
      continue;
    }
    for (const byte of Buffer.from(character, 'utf8'))
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function unescapeToken(token: string): string {
  if (token === '%') return '';
  if (!token.includes('%')) return keepTopicSafe(token);
  const bytes: number[] = [];
  let literal = '';
  let out = '';
  const flushBytes = (): void => {
    if (bytes.length > 0) {
      out += Buffer.from(bytes).toString('utf8');
      bytes.length = 0;
    }
  };
  for (let index = 0; index < token.length; index++) {
    const character = token[index] as string;
    const hex = token.slice(index + 1, index + 3);
    if (character === '%' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      if (literal.length > 0) {
        out += literal;
        literal = '';
      }
      bytes.push(Number.parseInt(hex, 16));
      index += 2;
      continue;
    }
    flushBytes();
    literal += character;
  }
  flushBytes();
  out += literal;
  return keepTopicSafe(out);
}

/** A decoded level must not hold the topic's own separators or wildcards. */
function keepTopicSafe(level: string): string {
  let out: string | undefined;
  for (let index = 0; index < level.length; index++) {
    const code = level.charCodeAt(index);
    const unsafe = code === 0x2f || code === 0x2b || code === 0x23 || code === 0;
    if (unsafe) out = (out ?? level.slice(0, index)) + `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (out !== undefined) out += level[index];
  }
  return out ?? level;
}

const topicCacheMax = 4096;
const topicToSubjectCache = new Map<string, string>();
const subjectToTopicCache = new Map<string, string>();

function remember(cache: Map<string, string>, key: string, value: string): string {
  if (cache.size >= topicCacheMax) cache.clear();
  cache.set(key, value);
  return value;
}

/** The subject of an MQTT topic name (assumed valid by validateTopicName). */
export function topicToSubject(topic: string): string {
  const cached = topicToSubjectCache.get(topic);
  if (cached !== undefined) return cached;
  const subject = topic.split('/').map(escapeLevel).join('.');
  return remember(topicToSubjectCache, topic, subject);
}

/** The MQTT topic name of a subject. */
export function subjectToTopic(subject: string): string {
  const cached = subjectToTopicCache.get(subject);
  if (cached !== undefined) return cached;
  const topic = subject.split('.').map(unescapeToken).join('/');
  return remember(subjectToTopicCache, subject, topic);
}

/**
 * The subject filters that together match what an MQTT filter matches: one, or two for a
 * filter ending in `/#` (its parent level too [MQTT-4.7.1-2]).
 */
export function filterToSubjectFilters(filter: string): string[] {
  const levels = filter.split('/');
  const tokens = levels.map((level) => (level === '+' ? '*' : level === '#' ? '>' : escapeLevel(level)));
  if (tokens.length > 1 && tokens[tokens.length - 1] === '>') {
    return [tokens.slice(0, -1).join('.'), tokens.join('.')];
  }
  return [tokens.join('.')];
}

/** True when an MQTT filter starts with a wildcard, so `$` topics do not match it [MQTT-4.7.2-1]. */
export function filterStartsWithWildcard(filter: string): boolean {
  const first = filter.charCodeAt(0);
  return first === 0x2b || first === 0x23;
}

// ---------------------------------------------------------------------------------------
// Messages

export interface PublishContext {
  /** The publishing client's id, for no-local on durable subscriptions. */
  readonly clientId: string;
  readonly nowMs: number;
}

/** The core's publish input for an MQTT PUBLISH whose topic is already resolved. */
export function publishToInput(packet: PublishPacket, topic: string, context: PublishContext): PublishInput {
  const properties = packet.properties;
  const headers: Record<string, HeaderValue> = {};
  headers[internalHeader.publisher] = context.clientId;
  if (packet.qos !== 0) headers[internalHeader.qos] = packet.qos;
  if (packet.retain) headers[internalHeader.retain] = true;
  const body = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
  if (properties === undefined) {
    return { subject: topicToSubject(topic), body, headers, persistent: packet.qos > 0 };
  }
  if (properties.payloadFormatIndicator === true) headers[internalHeader.payloadFormat] = true;
  const input: {
    -readonly [K in keyof PublishInput]: PublishInput[K];
  } = { subject: topicToSubject(topic), body, headers, persistent: packet.qos > 0 };
  const userProperties = properties.userProperties;
  if (userProperties !== undefined) {
    const lists: string[] = [];
    for (const [name, value] of Object.entries(userProperties)) {
      if (name.startsWith(internalHeaderPrefix)) continue;
      if (Array.isArray(value)) {
        setHeader(headers, name, JSON.stringify(value));
        lists.push(name);
      } else {
        setHeader(headers, name, value);
      }
    }
    if (lists.length > 0) headers[internalHeader.lists] = JSON.stringify(lists);
  }
  if (properties.contentType !== undefined) input.contentType = properties.contentType;
  if (properties.responseTopic !== undefined) input.replyTo = topicToSubject(properties.responseTopic);
  const correlation = properties.correlationData;
  if (correlation !== undefined) {
    const text = correlation.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(correlation)) input.correlationId = text;
    else headers[internalHeader.correlation] = Buffer.from(correlation);
  }
  if (properties.messageExpiryInterval !== undefined) {
    input.expiresAtMs = context.nowMs + properties.messageExpiryInterval * 1000;
  }
  return input;
}

/** The QoS a message was published with; messages from other protocols count as QoS 2, so the subscription's QoS decides. */
export function publishedQos(message: Message): Qos {
  const qos = message.headers[internalHeader.qos];
  if (qos === undefined) return message.headers[internalHeader.publisher] === undefined ? 2 : 0;
  return qos === 1 ? 1 : qos === 2 ? 2 : 0;
}

export function publishedRetain(message: Message): boolean {
  return message.headers[internalHeader.retain] === true;
}

export function publisherOf(message: Message): string | undefined {
  const publisher = message.headers[internalHeader.publisher];
  return typeof publisher === 'string' ? publisher : undefined;
}

export type PublishProperties = NonNullable<PublishPacket['properties']>;

/**
 * The v5 PUBLISH properties of a message: undefined when it has none. Message expiry is the
 * time left [MQTT-3.3.2-6]; a message already expired gives `expired: true`.
 */
export function messageProperties(
  message: Message,
  nowMs: number,
): PublishProperties | undefined | 'expired' {
  let properties: PublishProperties | undefined;
  const ensure = (): PublishProperties => (properties ??= {});
  if (message.expiresAtMs !== undefined) {
    const remainingMs = message.expiresAtMs - nowMs;
    if (remainingMs <= 0) return 'expired';
    ensure().messageExpiryInterval = Math.ceil(remainingMs / 1000);
  }
  if (message.contentType !== undefined) ensure().contentType = message.contentType;
  if (message.replyTo !== undefined) ensure().responseTopic = subjectToTopic(message.replyTo);
  const correlation = message.headers[internalHeader.correlation];
  if (Buffer.isBuffer(correlation)) ensure().correlationData = correlation;
  else if (message.correlationId !== undefined) ensure().correlationData = Buffer.from(message.correlationId);
  if (message.headers[internalHeader.payloadFormat] === true) ensure().payloadFormatIndicator = true;
  let lists: string[] | undefined;
  let userProperties: UserProperties | undefined;
  for (const [name, value] of Object.entries(message.headers)) {
    if (name.startsWith(internalHeaderPrefix)) continue;
    lists ??= parseLists(message.headers[internalHeader.lists]);
    userProperties ??= {};
    const text = Buffer.isBuffer(value) ? value.toString('base64') : String(value);
    setUserProperty(
      userProperties,
      name,
      lists.includes(name) && typeof value === 'string' ? parseList(value) : text,
    );
  }
  if (userProperties !== undefined) ensure().userProperties = userProperties;
  return properties;
}

function setUserProperty(properties: UserProperties, name: string, value: string | string[]): void {
  if (name === '__proto__') {
    Object.defineProperty(properties, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    properties[name] = value;
  }
}

function parseLists(value: HeaderValue | undefined): string[] {
  if (typeof value !== 'string') return [];
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

function parseList(value: string): string | string[] {
  const parsed = parseLists(value);
  return parsed.length > 0 ? parsed : value;
}

// ---------------------------------------------------------------------------------------
// Errors

/** The one table: a WeirError code to the MQTT 5 reason code that says the same thing. */
const reasonCodeByErrorCode: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.InvalidSubject]: ReasonCode.topicNameInvalid,
  [ErrorCode.InvalidArgument]: ReasonCode.implementationSpecificError,
  [ErrorCode.FrameTooLarge]: ReasonCode.packetTooLarge,
  [ErrorCode.MessageTooLarge]: ReasonCode.packetTooLarge,
  [ErrorCode.RecordTooLarge]: ReasonCode.packetTooLarge,
  [ErrorCode.BatchTooLarge]: ReasonCode.packetTooLarge,
  [ErrorCode.NotAuthorized]: ReasonCode.notAuthorized,
  [ErrorCode.AuthenticationFailed]: ReasonCode.badUserNameOrPassword,
  [ErrorCode.StreamFull]: ReasonCode.quotaExceeded,
  [ErrorCode.LimitExceeded]: ReasonCode.quotaExceeded,
  [ErrorCode.Overloaded]: ReasonCode.serverBusy,
  [ErrorCode.NotSupported]: ReasonCode.implementationSpecificError,
  [ErrorCode.DestinationConflict]: ReasonCode.implementationSpecificError,
  [ErrorCode.ProtocolError]: ReasonCode.protocolError,
  [ErrorCode.Closed]: ReasonCode.serverShuttingDown,
  [ErrorCode.SlowConsumer]: ReasonCode.quotaExceeded,
};

export function reasonCodeFor(error: unknown): number {
  if (error instanceof InvalidTopicError) return error.reasonCode;
  if (!isWeirError(error)) return ReasonCode.unspecifiedError;
  return reasonCodeByErrorCode[error.code] ?? ReasonCode.unspecifiedError;
}
