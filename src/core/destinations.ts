// Queues and durable topic subscriptions, named one way for every protocol (DESIGN.md §1).
// STOMP `/queue/x`, JMS queues, the clients' `createQueue(x)` (and later AMQP queues) all
// reach the same queue through `ensureQueue`; STOMP, JMS and client durable subscriptions
// all go through `ensureDurableSubscription`. No adapter names streams of its own.
//
// Name encoding. Stream and consumer names hold only letters, digits, '_' and '-'; queue,
// topic and subscription names hold anything a subject may (`orders.eu`, `caf\u00e9`).
// `encodeName` keeps letters, digits and '-' and writes every other UTF-8 byte as '_' plus
// two lowercase hex digits ('_' itself too), so distinct names never share a stream or
// consumer name and `orders` stays `orders`:
//
//   queue q                 stream `encodeName(q)` (queueStreamName), retention workqueue,
//                           capturing subject q, with the shared durable consumer of the
//                           same name (explicit acks)
//   durable subscription n  durable consumer `encodeName(n)`, or with a client id c
//   (client id c)           `encodeName(c) + '__' + encodeName(n)` ('__' never occurs in an
//                           encoded name, so the pair is unambiguous)
//   on topic filter f       on the stream that captures f: an existing interest or limits
//                           stream with a subject covering f (the consumer filters on f unless
//                           f is the stream's only subject), else a new interest stream
//                           `topic-` + encodeName(f) (topicStreamName; shortened with a hash
//                           when too long)
//   filtered subscriptions  (MQTT persistent sessions: many narrow filters) share topic
//                           streams: `ensureSubscriptionStream` adds f to a `topic-` stream
//                           whose consumers all filter, widening one that f partly overlaps,
//                           and `releaseUnusedSubjects` drops subjects no consumer needs
//
// The core lets no two streams capture overlapping subjects. So a queue whose subject is
// already captured by a topic stream, a durable subscription whose filter overlaps a queue,
// and a filter that partly overlaps another stream are refused with WEIR_DESTINATION_CONFLICT
// naming the stream in the way. Every operation is idempotent; two sessions creating the
// same queue or subscription at once both succeed (the core serialises administration and
// accepts an identical definition twice).

import { ErrorCode, InvalidArgumentError, WeirError, isWeirError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import type { ConsumerConfigInput, ConsumerInfo, StreamConfigInput, StreamInfo } from './api.js';
import { keyHash } from './partition-hash.js';
import { filtersOverlap, validateFilter, validateSubject } from './subject.js';

/** The stream and consumer administration these functions need; BrokerCore has it. */
export interface DestinationCore {
  addStream(input: StreamConfigInput): Promise<StreamInfo>;
  addConsumer(streamName: string, input: ConsumerConfigInput): Promise<ConsumerInfo>;
  deleteConsumer(streamName: string, name: string): Promise<boolean>;
  listStreams(): StreamInfo[];
  listConsumers(streamName: string): ConsumerInfo[];
}

export function isDestinationCore(core: object): core is DestinationCore {
  const candidate = core as Partial<DestinationCore>;
  return (
    typeof candidate.addStream === 'function' &&
    typeof candidate.addConsumer === 'function' &&
    typeof candidate.deleteConsumer === 'function' &&
    typeof candidate.listStreams === 'function' &&
    typeof candidate.listConsumers === 'function'
  );
}

/** Where a queue or durable subscription lives: attach to `consumer` on `stream`. */
export interface DestinationRef {
  readonly stream: string;
  readonly consumer: string;
}

export interface QueueRef extends DestinationRef {
  readonly streamInfo: StreamInfo;
  readonly consumerInfo: ConsumerInfo;
}

function encodeUnbounded(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const isKept =
      (byte >= 0x30 && byte <= 0x39) || // 0-9
      (byte >= 0x41 && byte <= 0x5a) || // A-Z
      (byte >= 0x61 && byte <= 0x7a) || // a-z
      byte === 0x2d; // '-'
    out += isKept ? String.fromCharCode(byte) : `_${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** A queue, topic or subscription name as a stream or consumer name (see the top of this file). */
export function encodeName(name: string): string {
  if (name === '') throw new InvalidArgumentError('a queue or subscription name must not be empty');
  const out = encodeUnbounded(name);
  if (out.length > Limits.nameLengthMax) {
    throw new InvalidArgumentError(
      `the name '${name.slice(0, 64)}…' is too long for a queue or subscription (${out.length} characters encoded, at most ${Limits.nameLengthMax})`,
    );
  }
  return out;
}

/** The stream (and consumer) name of queue `name`. */
export function queueStreamName(name: string): string {
  return encodeName(name);
}

/** The interest stream created for durable subscriptions on `filter` when no stream captures it. */
export function topicStreamName(filter: string): string {
  const name = `topic-${encodeUnbounded(filter)}`;
  if (name.length <= Limits.nameLengthMax) return name;
  const hash = `-${keyHash(filter).toString(16).padStart(8, '0')}`;
  return name.slice(0, Limits.nameLengthMax - hash.length) + hash;
}

/** The consumer name of durable subscription `subscriptionName` (of client `clientId`). */
export function durableConsumerName(subscriptionName: string, clientId?: string): string {
  const name =
    clientId === undefined
      ? encodeName(subscriptionName)
      : `${encodeName(clientId)}__${encodeName(subscriptionName)}`;
  if (name.length > Limits.nameLengthMax) {
    throw new InvalidArgumentError(
      `the client id and subscription name '${subscriptionName.slice(0, 64)}' are too long together`,
    );
  }
  return name;
}

/** True when every subject `inner` matches is matched by `outer` (both valid filters). */
export function filterCovers(outer: string, inner: string): boolean {
  const outerTokens = outer.split('.');
  const innerTokens = inner.split('.');
  for (let index = 0; index < outerTokens.length; index++) {
    const token = outerTokens[index];
    const innerToken = innerTokens[index];
    if (token === '>') return innerTokens.length > index;
    if (innerToken === undefined) return false;
    if (token === '*') {
      if (innerToken === '>') return false;
      continue;
    }
    if (innerToken !== token) return false;
  }
  return outerTokens.length === innerTokens.length;
}

export interface QueueOptions extends Partial<Omit<StreamConfigInput, 'name' | 'subjects' | 'retention'>> {
  readonly retention?: 'workqueue';
}

/** Stream options for a queue: its retention is always workqueue. */
export function queueOptions(options: Partial<Omit<StreamConfigInput, 'name' | 'subjects'>>): QueueOptions {
  const { retention, ...rest } = options;
  if (retention !== undefined && retention !== 'workqueue') {
    throw new InvalidArgumentError(`a queue has retention workqueue, not '${retention}'`);
  }
  return rest;
}

/**
 * Queue `name`: a workqueue stream capturing subject `name` with its shared durable consumer,
 * created on first use. Idempotent; `options` configure the stream when it is created (an
 * existing queue with another configuration is refused by the core with WEIR_STREAM_EXISTS).
 */
export async function ensureQueue(
  core: DestinationCore,
  name: string,
  options: QueueOptions = {},
): Promise<QueueRef> {
  validateSubject(name); // a literal subject: no wildcards
  const streamName = queueStreamName(name);
  let streamInfo = core.listStreams().find((stream) => stream.config.name === streamName);
  if (streamInfo !== undefined) {
    if (streamInfo.config.retention !== 'workqueue' || !streamInfo.config.subjects.includes(name)) {
      throw new WeirError(
        ErrorCode.DestinationConflict,
        `stream '${streamName}' exists (retention ${streamInfo.config.retention}, subjects ${streamInfo.config.subjects.join(', ')}), so it cannot serve as queue '${name}'`,
      );
    }
  } else {
    for (const stream of core.listStreams()) {
      const inTheWay = stream.config.subjects.find((subject) => filtersOverlap(subject, name));
      if (inTheWay !== undefined) {
        throw new WeirError(
          ErrorCode.DestinationConflict,
          `queue '${name}' overlaps stream '${stream.config.name}' (subject ${inTheWay}, retention ${stream.config.retention}); a queue needs its subject to itself`,
        );
      }
    }
    try {
      streamInfo = await core.addStream({
        ...options,
        name: streamName,
        subjects: [name],
        retention: 'workqueue',
      });
    } catch (error) {
      // A session made an overlapping stream meanwhile (the same queue is accepted by the core).
      if (!isWeirError(error, ErrorCode.InvalidArgument) || !/overlaps/.test((error as Error).message))
        throw error;
      throw new WeirError(ErrorCode.DestinationConflict, `queue '${name}': ${(error as Error).message}`);
    }
  }
  const consumerInfo = await core.addConsumer(streamName, {
    name: streamName,
    durable: true,
    ackPolicy: 'explicit',
    dispatch: 'shared',
  });
  return { stream: streamName, consumer: streamName, streamInfo, consumerInfo };
}

export interface DurableSubscriptionInput {
  readonly topicFilter: string;
  readonly subscriptionName: string;
  /** Names the subscription together with `subscriptionName` (JMS unshared, STOMP ActiveMQ dialect). */
  readonly clientId?: string;
  /** A JMS selector (src/core/selector); blank means none. */
  readonly selector?: string;
  /** `exclusive` (default: one subscriber) or `shared` (JMS shared durable subscriptions). */
  readonly dispatch?: 'exclusive' | 'shared';
}

/** The stream that captures `filter` for durable subscriptions, or undefined when none does yet. */
export function findTopicStream(core: DestinationCore, filter: string): StreamInfo | undefined {
  validateFilter(filter);
  let target: StreamInfo | undefined;
  for (const stream of core.listStreams()) {
    for (const subject of stream.config.subjects) {
      if (stream.config.retention === 'workqueue' && filtersOverlap(subject, filter)) {
        throw new WeirError(
          ErrorCode.DestinationConflict,
          `topic '${filter}' overlaps queue '${subject}' (stream '${stream.config.name}'); a durable subscription cannot share a queue's subjects, choose a topic name no queue uses`,
        );
      }
      if (filterCovers(subject, filter)) {
        target = stream;
      } else if (filtersOverlap(subject, filter)) {
        throw new WeirError(
          ErrorCode.DestinationConflict,
          `topic '${filter}' overlaps stream '${stream.config.name}' (subjects ${stream.config.subjects.join(', ')}) without being inside it`,
        );
      }
    }
  }
  return target;
}

/**
 * A durable consumer on the interest stream capturing `topicFilter` (reused when one covers
 * it, else created). A subscription of the same name on another topic, or here with another
 * selector or dispatch, is replaced, as JMS does when a durable subscriber changes them.
 */
export async function ensureDurableSubscription(
  core: DestinationCore,
  input: DurableSubscriptionInput,
): Promise<DestinationRef> {
  const filter = input.topicFilter;
  const consumerName = durableConsumerName(input.subscriptionName, input.clientId);
  let target = findTopicStream(core, filter);
  if (target === undefined) {
    try {
      target = await core.addStream({
        name: topicStreamName(filter),
        subjects: [filter],
        retention: 'interest',
      });
    } catch (error) {
      // Another session made an overlapping stream meanwhile: reuse it, or say what is in the way.
      target = findTopicStream(core, filter);
      if (target === undefined) throw error;
    }
  }
  const streamName = target.config.name;
  const selector = input.selector !== undefined && input.selector.trim() !== '' ? input.selector : undefined;
  const config: ConsumerConfigInput = {
    name: consumerName,
    durable: true,
    ackPolicy: 'explicit',
    dispatch: input.dispatch ?? 'exclusive',
    deliverPolicy: { kind: 'new' },
    // A stream with more subjects than `filter` (a wider one, or a shared one) is filtered.
    ...(target.config.subjects.length === 1 && target.config.subjects[0] === filter
      ? {}
      : { filterSubject: filter }),
    ...(selector !== undefined ? { selector } : {}),
  };
  for (const stream of core.listStreams()) {
    if (stream.config.name === streamName) continue;
    if (core.listConsumers(stream.config.name).some((consumer) => consumer.config.name === consumerName)) {
      await core.deleteConsumer(stream.config.name, consumerName);
    }
  }
  try {
    await core.addConsumer(streamName, config);
  } catch (error) {
    if (!isWeirError(error, ErrorCode.ConsumerExists)) throw error;
    await core.deleteConsumer(streamName, consumerName);
    await core.addConsumer(streamName, config);
  }
  return { stream: streamName, consumer: consumerName };
}

/** Deletes durable subscription `subscriptionName` (of `clientId`) wherever it is; false when there was none. */
export async function deleteDurableSubscription(
  core: DestinationCore,
  subscriptionName: string,
  clientId?: string,
): Promise<boolean> {
  const consumerName = durableConsumerName(subscriptionName, clientId);
  let deleted = false;
  for (const stream of core.listStreams()) {
    if (core.listConsumers(stream.config.name).some((consumer) => consumer.config.name === consumerName)) {
      deleted = (await core.deleteConsumer(stream.config.name, consumerName)) || deleted;
    }
  }
  return deleted;
}

/** What ensureSubscriptionStream and releaseUnusedSubjects need besides DestinationCore. */
export interface SubscriptionStreamCore extends DestinationCore {
  updateStream(input: StreamConfigInput): Promise<StreamInfo>;
}

/** Bounds of a topic stream created by ensureSubscriptionStream (oldest messages go first). */
export interface SubscriptionStreamOptions {
  readonly maxBytes?: number;
  readonly maxAgeMs?: number;
}

const topicStreamPrefix = 'topic-';

/**
 * True when `stream` can capture more subjects without changing what its consumers get: an
 * interest stream named by topicStreamName whose consumers all filter (one without a filter
 * takes everything the stream captures).
 */
function isSharedTopicStream(core: DestinationCore, stream: StreamInfo): boolean {
  return (
    stream.config.name.startsWith(topicStreamPrefix) &&
    stream.config.retention === 'interest' &&
    core.listConsumers(stream.config.name).every((consumer) => consumer.config.filterSubject !== undefined)
  );
}

function conflict(message: string): WeirError {
  return new WeirError(ErrorCode.DestinationConflict, message);
}

/**
 * The stream for durable consumers filtered on `filter` (MQTT persistent subscriptions:
 * thousands of narrow filters share streams, where a stream each would soon reach
 * Limits.streamsMax). In order: a stream whose subjects cover `filter`; a shared topic stream
 * that `filter` partly overlaps, widened to it; a shared topic stream with room, which takes
 * `filter` as one more subject; a new interest stream `topicStreamName(filter)`. A filter
 * that overlaps a queue, partly overlaps any other stream, or overlaps several streams is
 * refused with WEIR_DESTINATION_CONFLICT. `changed` says whether subjects changed anywhere.
 */
export async function ensureSubscriptionStream(
  core: SubscriptionStreamCore,
  filter: string,
  options: SubscriptionStreamOptions = {},
  attempt = 0,
): Promise<{ stream: string; changed: boolean }> {
  validateFilter(filter);
  const streams = core.listStreams();
  const overlapping: StreamInfo[] = [];
  for (const stream of streams) {
    const subjects = stream.config.subjects;
    if (!subjects.some((subject) => filtersOverlap(subject, filter))) continue;
    if (stream.config.retention === 'workqueue') {
      throw conflict(
        `subscription subjects '${filter}' overlap queue stream '${stream.config.name}'; a queue's subjects are its own`,
      );
    }
    if (subjects.some((subject) => filterCovers(subject, filter))) {
      return { stream: stream.config.name, changed: false };
    }
    overlapping.push(stream);
  }
  const foreign = overlapping.find((stream) => !isSharedTopicStream(core, stream));
  if (foreign !== undefined) {
    throw conflict(
      `subscription subjects '${filter}' partly overlap stream '${foreign.config.name}' (subjects ${foreign.config.subjects.join(', ')}); subscribe within its subjects`,
    );
  }
  if (overlapping.length > 1) {
    throw conflict(
      `subscription subjects '${filter}' overlap several streams (${overlapping.map((stream) => stream.config.name).join(', ')})`,
    );
  }
  const target =
    overlapping[0] ??
    streams.find(
      (stream) =>
        stream.config.subjects.length < Limits.streamSubjectsMax &&
        stream.consumers < Limits.consumersPerStreamMax &&
        isSharedTopicStream(core, stream),
    );
  try {
    if (target === undefined) {
      const used = new Set(streams.map((stream) => stream.config.name));
      const base = topicStreamName(filter);
      let name = base;
      for (let index = 2; used.has(name); index++) {
        const suffix = `-${index}`;
        name = base.slice(0, Limits.nameLengthMax - suffix.length) + suffix;
      }
      await core.addStream({
        name,
        subjects: [filter],
        retention: 'interest',
        ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
        ...(options.maxAgeMs !== undefined ? { maxAgeMs: options.maxAgeMs } : {}),
        discard: 'old',
      });
      return { stream: name, changed: true };
    }
    // Subjects the new filter covers go: the stream captures the same and one subject fewer.
    const kept = target.config.subjects.filter((subject) => !filterCovers(filter, subject));
    await core.updateStream({ name: target.config.name, subjects: [...kept, filter] });
    return { stream: target.config.name, changed: true };
  } catch (error) {
    // Another session changed the streams meanwhile (the core refuses overlapping subjects): look again, once.
    if (attempt > 0 || !isWeirError(error, ErrorCode.InvalidArgument)) throw error;
    return ensureSubscriptionStream(core, filter, options, attempt + 1);
  }
}

/**
 * Drops the subjects of a shared topic stream that no consumer filters within any more (after
 * a consumer was deleted); a stream left with no consumers keeps its subjects, so that it is
 * reused. True when the subjects changed.
 */
export async function releaseUnusedSubjects(
  core: SubscriptionStreamCore,
  streamName: string,
): Promise<boolean> {
  const stream = core.listStreams().find((candidate) => candidate.config.name === streamName);
  if (stream === undefined || !isSharedTopicStream(core, stream)) return false;
  const filters = core.listConsumers(streamName).map((consumer) => consumer.config.filterSubject ?? '>');
  const kept = stream.config.subjects.filter((subject) =>
    filters.some((filter) => filterCovers(subject, filter)),
  );
  if (kept.length === stream.config.subjects.length || kept.length === 0) return false;
  await core.updateStream({ name: streamName, subjects: kept });
  return true;
}
