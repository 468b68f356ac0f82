// Administration and destinations over the native protocol: ADMIN requests for streams,
// consumers, queues, durable subscriptions and temporary destinations, made by the broker as
// for every protocol (src/core/destinations.ts).

import { ErrorCode, WeirError, isWeirError } from '../common/errors.js';
import type { ConsumerConfigInput, StreamConfigInput } from '../core/api.js';
import {
  type DestinationRef,
  type DurableSubscriptionInput,
  queueOptions,
  topicStreamName,
} from '../core/destinations.js';
import type { AdminOperation } from '../protocols/native/codec/index.js';
import type { Connection } from './connection.js';
import type { Admin, ConsumerInfo, QueueInfo, RedriveResult, StreamInfo, TemporaryQueue } from './types.js';

export class NetworkAdministration {
  readonly admin: Admin;
  readonly #whenConnected: () => Promise<Connection>;

  /** `whenConnected` gives the current connection (or the next one). */
  constructor(whenConnected: () => Promise<Connection>) {
    this.#whenConnected = whenConnected;
    this.admin = {
      addStream: (config: StreamConfigInput) => this.request<StreamInfo>('streamCreate', config),
      updateStream: (config: StreamConfigInput) => this.request<StreamInfo>('streamUpdate', config),
      deleteStream: async (name: string) =>
        (await this.request<{ deleted: boolean }>('streamDelete', { name })).deleted,
      streamInfo: (name: string) => this.request<StreamInfo>('streamInfo', { name }),
      listStreams: async () => (await this.request<{ items: StreamInfo[] }>('streamList', {})).items,
      addConsumer: (stream: string, config: ConsumerConfigInput) =>
        this.request<ConsumerInfo>('consumerCreate', { stream, config }),
      deleteConsumer: async (stream: string, name: string) =>
        (await this.request<{ deleted: boolean }>('consumerDelete', { stream, name })).deleted,
      consumerInfo: (stream: string, name: string) =>
        this.request<ConsumerInfo>('consumerInfo', { stream, name }),
      listConsumers: async (stream: string) =>
        (await this.request<{ items: ConsumerInfo[] }>('consumerList', { stream })).items,
      redrive: (stream, selection) =>
        this.request<RedriveResult>('deadLetterRedrive', {
          stream,
          ...(selection !== undefined ? { selection } : {}),
        }),
    };
  }

  /** One ADMIN request, answered by ADMIN_RESULT. */
  async request<T>(operation: AdminOperation, body: unknown): Promise<T> {
    const connection = await this.#whenConnected();
    const answer = await connection.request({ kind: 'admin', requestId: 0, operation, body });
    if (answer.kind !== 'adminResult') {
      throw new WeirError(ErrorCode.ProtocolError, `expected ADMIN_RESULT, got ${answer.kind}`);
    }
    return answer.body as T;
  }

  /**
   * The stream that captures `topic`, or else a new interest stream for it (named as for
   * every protocol, src/core/destinations.ts), so persistent topic messages have a home.
   */
  async topicStream(topic: string): Promise<{ stream: string; covers: boolean }> {
    const found = (await this.request<{ stream: string | null }>('streamFind', { subject: topic })).stream;
    let stream: string;
    if (found === null) {
      stream = topicStreamName(topic);
      try {
        await this.admin.addStream({ name: stream, subjects: [topic], retention: 'interest' });
      } catch (error) {
        if (!isWeirError(error, ErrorCode.StreamExists)) throw error;
      }
    } else {
      stream = found;
    }
    const covers = (await this.admin.streamInfo(stream)).config.subjects.includes(topic);
    return { stream, covers };
  }

  /** A durable subscription on a topic (see NetworkClient.ensureDurableSubscription); idempotent. */
  ensureDurableSubscription(input: DurableSubscriptionInput): Promise<DestinationRef> {
    return this.request<DestinationRef>('subscriptionEnsure', input);
  }

  /** Deletes durable subscription `subscriptionName` (of `clientId`); false when there was none. */
  async deleteDurableSubscription(subscriptionName: string, clientId?: string): Promise<boolean> {
    const body = { subscriptionName, ...(clientId !== undefined ? { clientId } : {}) };
    return (await this.request<{ deleted: boolean }>('subscriptionDelete', body)).deleted;
  }

  /** A topic subject owned by the current connection. */
  async createTemporaryTopic(): Promise<string> {
    return (await this.request<{ subject: string }>('temporaryTopicCreate', {})).subject;
  }

  /** A queue owned by the current connection. */
  createTemporaryQueue(): Promise<TemporaryQueue> {
    return this.request<TemporaryQueue>('temporaryQueueCreate', {});
  }

  /** Queue `name`, made by the broker as for every protocol (src/core/destinations.ts); idempotent. */
  async createQueue(
    name: string,
    options: Partial<Omit<StreamConfigInput, 'name' | 'subjects'>> = {},
  ): Promise<QueueInfo> {
    return this.request<QueueInfo>('queueEnsure', { name, options: queueOptions(options) });
  }
}
