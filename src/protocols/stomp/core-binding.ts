// Binds StompCore to BrokerCore's administration (streams and consumers).
//
// Names: stream and consumer names hold only letters, digits, '_' and '-', while STOMP
// names hold anything a subject may (`orders.eu`). `encodeName` keeps letters, digits and
// '-' and writes every other UTF-8 byte as `_` plus two hex digits, so distinct STOMP names
// never share a stream or consumer name ('_' itself is escaped).
//
//   queue x                 stream `encodeName(x)` on subject x, retention workqueue, with
//                           the shared durable consumer `encodeName(x)` (DESIGN.md §1)
//   durable subscription n  durable consumer `encodeName(n)` (dispatch exclusive, new
//   on topic filter f       messages only) on the stream that captures f: an existing
//                           interest or limits stream whose subjects cover f (with
//                           filterSubject f), else a new interest stream `topic-<f>`.
//
// The core lets no two streams capture overlapping subjects. So a durable subscription
// whose filter overlaps a queue, or partly overlaps another stream, is refused with an
// error that names the stream in the way.
import { ErrorCode, InvalidArgumentError, WeirError, isWeirError } from '../../common/errors.js';
import { Limits } from '../../common/limits.js';
import type { ConsumerConfigInput, ConsumerInfo, StreamConfigInput, StreamInfo } from '../../core/api.js';
import type { ProtocolCore } from '../../core/protocol-server.js';
import { filtersOverlap } from '../../core/subject.js';
import type { ConsumerRef, StompCore } from './core-admin.js';

/** The administration StompCore needs; BrokerCore has it. */
export interface AdminCore extends ProtocolCore {
  addStream(input: StreamConfigInput): Promise<StreamInfo>;
  addConsumer(streamName: string, input: ConsumerConfigInput): Promise<ConsumerInfo>;
  deleteConsumer(streamName: string, name: string): Promise<boolean>;
  listStreams(): StreamInfo[];
  listConsumers(streamName: string): ConsumerInfo[];
}

function isAdminCore(core: ProtocolCore): core is AdminCore {
  const candidate = core as Partial<AdminCore>;
  return (
    typeof candidate.addStream === 'function' &&
    typeof candidate.addConsumer === 'function' &&
    typeof candidate.deleteConsumer === 'function' &&
    typeof candidate.listStreams === 'function' &&
    typeof candidate.listConsumers === 'function'
  );
}

export function encodeName(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9-]/.test(char) ? char : `_${byte.toString(16).padStart(2, '0')}`;
  }
  if (out.length > Limits.nameLengthMax) {
    throw new InvalidArgumentError(
      `the name '${name.slice(0, 64)}…' is too long for a queue or subscription`,
    );
  }
  return out;
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

export function coreForStomp(core: ProtocolCore): StompCore {
  if (!isAdminCore(core)) {
    const missing = (): Promise<never> =>
      Promise.reject(
        new WeirError(
          ErrorCode.NotSupported,
          'this core has no stream administration: queues are unavailable',
        ),
      );
    return {
      openSession: (options) => core.openSession(options),
      ensureQueue: missing,
      ensureDurableSubscription: missing,
      deleteDurableSubscription: () => missing(),
    };
  }
  return new StompCoreBinding(core);
}

class StompCoreBinding implements StompCore {
  readonly #core: AdminCore;

  constructor(core: AdminCore) {
    this.#core = core;
  }

  openSession(options?: Parameters<ProtocolCore['openSession']>[0]): ReturnType<ProtocolCore['openSession']> {
    return this.#core.openSession(options);
  }

  async ensureQueue(name: string): Promise<ConsumerRef> {
    const streamName = encodeName(name);
    const existing = this.#core.listStreams().find((stream) => stream.config.name === streamName);
    if (existing !== undefined && existing.config.retention !== 'workqueue') {
      throw new WeirError(
        ErrorCode.StreamExists,
        `stream '${streamName}' exists with retention ${existing.config.retention}, so it cannot serve as queue '${name}'`,
      );
    }
    if (existing === undefined) {
      await this.#core.addStream({ name: streamName, subjects: [name], retention: 'workqueue' });
    }
    await this.#core.addConsumer(streamName, {
      name: streamName,
      durable: true,
      ackPolicy: 'explicit',
      dispatch: 'shared',
    });
    return { stream: streamName, consumer: streamName };
  }

  async ensureDurableSubscription(
    filter: string,
    name: string,
    selector: string | undefined,
  ): Promise<ConsumerRef> {
    const consumerName = encodeName(name);
    let target: StreamInfo | undefined;
    for (const stream of this.#core.listStreams()) {
      for (const subject of stream.config.subjects) {
        if (filterCovers(subject, filter)) {
          if (stream.config.retention === 'workqueue') {
            throw new WeirError(
              ErrorCode.NotSupported,
              `a durable subscription on topic '${filter}' would share queue stream '${stream.config.name}'; choose a topic name no queue uses`,
            );
          }
          target = stream;
        } else if (filtersOverlap(subject, filter)) {
          throw new WeirError(
            ErrorCode.NotSupported,
            `a durable subscription on '${filter}' overlaps stream '${stream.config.name}' (subjects ${stream.config.subjects.join(', ')}) without being inside it`,
          );
        }
      }
    }
    if (target === undefined) {
      target = await this.#core.addStream({
        name: `topic-${encodeName(filter)}`.slice(0, Limits.nameLengthMax),
        subjects: [filter],
        retention: 'interest',
      });
    }
    const streamName = target.config.name;
    const config: ConsumerConfigInput = {
      name: consumerName,
      durable: true,
      ackPolicy: 'explicit',
      dispatch: 'exclusive',
      deliverPolicy: { kind: 'new' },
      ...(target.config.subjects.includes(filter) ? {} : { filterSubject: filter }),
      ...(selector !== undefined ? { selector } : {}),
    };
    // A durable subscription of the same name elsewhere (another topic), or here with another
    // selector, is replaced, as JMS does when a durable subscriber changes its topic or selector.
    for (const stream of this.#core.listStreams()) {
      if (stream.config.name === streamName) continue;
      if (
        this.#core.listConsumers(stream.config.name).some((consumer) => consumer.config.name === consumerName)
      ) {
        await this.#core.deleteConsumer(stream.config.name, consumerName);
      }
    }
    try {
      await this.#core.addConsumer(streamName, config);
    } catch (error) {
      if (!isWeirError(error, ErrorCode.ConsumerExists)) throw error;
      await this.#core.deleteConsumer(streamName, consumerName);
      await this.#core.addConsumer(streamName, config);
    }
    return { stream: streamName, consumer: consumerName };
  }

  async deleteDurableSubscription(name: string): Promise<boolean> {
    const consumerName = encodeName(name);
    let deleted = false;
    for (const stream of this.#core.listStreams()) {
      if (
        this.#core.listConsumers(stream.config.name).some((consumer) => consumer.config.name === consumerName)
      ) {
        deleted = (await this.#core.deleteConsumer(stream.config.name, consumerName)) || deleted;
      }
    }
    return deleted;
  }
}
