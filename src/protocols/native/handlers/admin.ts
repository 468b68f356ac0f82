// Stream and consumer administration, dead-letter redrive and stream lookup (frame types
// 0x30–0x3e, JSON bodies), answered with ADMIN_RESULT. Bodies, by operation:
//
//   streamCreate, streamUpdate  a stream configuration          → stream info
//   streamDelete                { name }                        → { deleted }
//   streamInfo                  { name }                        → stream info
//   streamList                  {}                              → { items: stream info[] }
//   streamPurge                 { name }                        → WEIR_NOT_SUPPORTED (the core has no purge yet)
//   consumerCreate              { stream, config }              → consumer info
//   consumerDelete              { stream, name }                → { deleted }
//   consumerInfo                { stream, name }                → consumer info
//   consumerList                { stream }                      → { items: consumer info[] }
//   deadLetterRedrive           { stream, selection? }          → { redriven, skipped }
//   streamFind                  { subject }                     → { stream: name or null }
//   queueEnsure                 { name, options? }              → { stream: info, consumer: info }
//   subscriptionEnsure          { topicFilter, subscriptionName, clientId?, selector?, dispatch? }
//                                                               → { stream, consumer } (names)
//   subscriptionDelete          { subscriptionName, clientId? } → { deleted }
//   temporaryTopicCreate (0x4a) {}                              → { subject }
//   temporaryQueueCreate (0x4b) {}                              → { subject, stream, consumer }
//   producerInit (0x43)         { name? }                       → { producerId (decimal string), epoch }
//
// The last three belong to the connection's core session: temporary destinations are
// deleted when it closes, and a producer identity is what the client stamps publishes with.
// Queues and durable subscriptions are named as for every protocol (src/core/destinations.ts).

import { ErrorCode, InvalidArgumentError, WeirError } from '../../../common/errors.js';
import type {
  ConsumerConfigInput,
  ConsumerInfo,
  RedriveResult,
  RedriveSelection,
  StreamConfigInput,
  StreamInfo,
} from '../../../core/api.js';
import {
  type QueueOptions,
  deleteDurableSubscription,
  ensureDurableSubscription,
  ensureQueue,
} from '../../../core/destinations.js';
import type { ProtocolCore } from '../../../core/protocol-server.js';
import type { AdminFrame, AdminOperation } from '../codec/index.js';
import type { NativeSession } from '../session.js';

/** The administration half of BrokerCore (src/core/broker.ts). */
export interface AdminCore {
  addStream(config: StreamConfigInput): Promise<StreamInfo>;
  updateStream(config: StreamConfigInput): Promise<StreamInfo>;
  deleteStream(name: string): Promise<boolean>;
  streamInfo(name: string): StreamInfo;
  listStreams(): StreamInfo[];
  addConsumer(stream: string, config: ConsumerConfigInput): Promise<ConsumerInfo>;
  deleteConsumer(stream: string, name: string): Promise<boolean>;
  consumerInfo(stream: string, name: string): ConsumerInfo;
  listConsumers(stream: string): ConsumerInfo[];
  redrive(deadLetterStream: string, selection?: RedriveSelection): Promise<RedriveResult>;
  findStreamFor(subject: string): string | undefined;
}

function adminOf(core: ProtocolCore): AdminCore | undefined {
  const candidate = core as Partial<AdminCore>;
  return typeof candidate.addStream === 'function' && typeof candidate.findStreamFor === 'function'
    ? (candidate as AdminCore)
    : undefined;
}

type Body = Readonly<Record<string, unknown>>;

function objectBody(operation: AdminOperation, body: unknown): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidArgumentError(`${operation}: the request body must be a JSON object`);
  }
  return body as Body;
}

function text(operation: AdminOperation, body: Body, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw new InvalidArgumentError(`${operation}: "${field}" must be a non-empty string`);
  }
  return value;
}

function optionalText(operation: AdminOperation, body: Body, field: string): string | undefined {
  return body[field] === undefined ? undefined : text(operation, body, field);
}

async function run(admin: AdminCore, operation: AdminOperation, raw: unknown): Promise<unknown> {
  const body = objectBody(operation, raw);
  switch (operation) {
    case 'streamCreate':
      return admin.addStream(body as unknown as StreamConfigInput);
    case 'streamUpdate':
      return admin.updateStream(body as unknown as StreamConfigInput);
    case 'streamDelete':
      return { deleted: await admin.deleteStream(text(operation, body, 'name')) };
    case 'streamInfo':
      return admin.streamInfo(text(operation, body, 'name'));
    case 'streamList':
      return { items: admin.listStreams() };
    case 'streamPurge':
      throw new WeirError(
        ErrorCode.NotSupported,
        'streamPurge: purging a stream is not supported by this broker yet',
      );
    case 'consumerCreate': {
      const config = objectBody(operation, body.config);
      return admin.addConsumer(text(operation, body, 'stream'), config as unknown as ConsumerConfigInput);
    }
    case 'consumerDelete':
      return {
        deleted: await admin.deleteConsumer(text(operation, body, 'stream'), text(operation, body, 'name')),
      };
    case 'consumerInfo':
      return admin.consumerInfo(text(operation, body, 'stream'), text(operation, body, 'name'));
    case 'consumerList':
      return { items: admin.listConsumers(text(operation, body, 'stream')) };
    case 'deadLetterRedrive': {
      const selection = body.selection === undefined ? undefined : objectBody(operation, body.selection);
      return admin.redrive(text(operation, body, 'stream'), selection as RedriveSelection | undefined);
    }
    case 'streamFind':
      return { stream: admin.findStreamFor(text(operation, body, 'subject')) ?? null };
    case 'queueEnsure': {
      const options = body.options === undefined ? {} : objectBody(operation, body.options);
      const queue = await ensureQueue(admin, text(operation, body, 'name'), options as QueueOptions);
      return { stream: queue.streamInfo, consumer: queue.consumerInfo };
    }
    case 'subscriptionEnsure': {
      const dispatch = optionalText(operation, body, 'dispatch');
      if (dispatch !== undefined && dispatch !== 'exclusive' && dispatch !== 'shared') {
        throw new InvalidArgumentError(`${operation}: "dispatch" must be exclusive or shared`);
      }
      const clientId = optionalText(operation, body, 'clientId');
      const selector = optionalText(operation, body, 'selector');
      return ensureDurableSubscription(admin, {
        topicFilter: text(operation, body, 'topicFilter'),
        subscriptionName: text(operation, body, 'subscriptionName'),
        ...(clientId !== undefined ? { clientId } : {}),
        ...(selector !== undefined ? { selector } : {}),
        ...(dispatch !== undefined ? { dispatch } : {}),
      });
    }
    case 'subscriptionDelete':
      return {
        deleted: await deleteDurableSubscription(
          admin,
          text(operation, body, 'subscriptionName'),
          optionalText(operation, body, 'clientId'),
        ),
      };
    case 'temporaryTopicCreate':
    case 'temporaryQueueCreate':
    case 'producerInit':
      throw new WeirError(ErrorCode.NotSupported, `${operation}: not an administration operation`);
  }
}

/** Operations of the connection's own core session rather than the broker's administration. */
async function runSession(session: NativeSession, frame: AdminFrame): Promise<unknown> {
  const body = objectBody(frame.operation, frame.body);
  if (frame.operation === 'temporaryTopicCreate') return { subject: session.core.createTemporaryTopic() };
  if (frame.operation === 'temporaryQueueCreate') return session.core.createTemporaryQueue();
  const name = body.name;
  if (name !== undefined && (typeof name !== 'string' || name === '')) {
    throw new InvalidArgumentError('producerInit: "name" must be a non-empty string');
  }
  const identity = await session.core.initProducer(name === undefined ? {} : { name });
  // JSON has no 64-bit integers: the id travels as decimal text.
  return { producerId: identity.producerId.toString(), epoch: identity.epoch };
}

const sessionOperations: ReadonlySet<AdminOperation> = new Set([
  'temporaryTopicCreate',
  'temporaryQueueCreate',
  'producerInit',
]);

export function handleAdmin(session: NativeSession, frame: AdminFrame): void {
  if (sessionOperations.has(frame.operation)) {
    Promise.resolve()
      .then(() => runSession(session, frame))
      .then(
        (result) => session.send({ kind: 'adminResult', requestId: frame.requestId, body: result }),
        (error: unknown) => session.replyError(frame.requestId, error),
      );
    return;
  }
  const admin = adminOf(session.context.core);
  if (admin === undefined) {
    throw new WeirError(ErrorCode.NotSupported, `${frame.operation}: this broker offers no administration`);
  }
  // A synchronous throw from the core (stream not found) and a rejection are answered alike.
  Promise.resolve()
    .then(() => run(admin, frame.operation, frame.body))
    .then(
      (result) => session.send({ kind: 'adminResult', requestId: frame.requestId, body: result }),
      (error: unknown) => session.replyError(frame.requestId, error),
    );
}
