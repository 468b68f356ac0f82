// Bytes of one whole frame to a Frame value. Throws only WeirError: WEIR_PROTOCOL_ERROR for
// a malformed payload. A frame type this codec does not know (reserved for later, or from a
// newer peer) decodes to `unsupported` with its payload skipped, so the session can answer
// it with WEIR_NOT_SUPPORTED and carry on.

import { BufferReader, protocolError } from './buffer-reader.js';
import type {
  AdminOperation,
  AckEntry,
  Frame,
  NackEntry,
  SettleOutcome,
  TransactionAck,
  TermEntry,
  WireDelivery,
  WireSlowConsumerPolicy,
} from './frames.js';
import { FrameFlags, FrameType, helloMagic } from './frames.js';
import type { WireMessage, WirePublish } from './message-record.js';
import { readMessageRecord, readPublishRecord } from './message-record.js';

const settleOutcomes: readonly SettleOutcome[] = ['acked', 'duplicate', 'stale'];

const adminByType = new Map<number, AdminOperation>([
  [FrameType.streamCreate, 'streamCreate'],
  [FrameType.streamUpdate, 'streamUpdate'],
  [FrameType.streamDelete, 'streamDelete'],
  [FrameType.streamInfo, 'streamInfo'],
  [FrameType.streamList, 'streamList'],
  [FrameType.streamPurge, 'streamPurge'],
  [FrameType.consumerCreate, 'consumerCreate'],
  [FrameType.consumerDelete, 'consumerDelete'],
  [FrameType.consumerInfo, 'consumerInfo'],
  [FrameType.consumerList, 'consumerList'],
  [FrameType.deadLetterRedrive, 'deadLetterRedrive'],
  [FrameType.streamFind, 'streamFind'],
  [FrameType.queueEnsure, 'queueEnsure'],
  [FrameType.subscriptionEnsure, 'subscriptionEnsure'],
  [FrameType.subscriptionDelete, 'subscriptionDelete'],
  [FrameType.temporaryTopicCreate, 'temporaryTopicCreate'],
  [FrameType.temporaryQueueCreate, 'temporaryQueueCreate'],
  [FrameType.producerInit, 'producerInit'],
]);

// The smallest encodings, used to reject counts a frame cannot hold before allocating.
const deliveryBytesMin = 4 + 8 + 4 + 1 + 2 + 2 + 2 + 1 + 8 + 4;
const messageBytesMin = 2 + 2 + 2 + 1 + 8 + 4;
const publishBytesMin = 2 + 2 + 4;
const ackEntryBytes = 4 + 8 + 4;

function readDeliveries(reader: BufferReader): WireDelivery[] {
  const count = reader.count32('delivery count', deliveryBytesMin);
  const deliveries: WireDelivery[] = new Array<WireDelivery>(count);
  for (let index = 0; index < count; index++) {
    const partition = reader.u32('partition');
    const offset = reader.integer('offset');
    const deliveryCount = reader.u32('delivery count');
    const redelivered = reader.boolean('redelivered');
    const message = readMessageRecord(reader);
    deliveries[index] = { partition, offset, deliveryCount, redelivered, message };
  }
  return deliveries;
}

/** A PUBLISH_ACK offset: -1 when not known (a delayed message, or a duplicate too old to have one). */
function readAckOffset(reader: BufferReader): number {
  const value = reader.f64('offset');
  if (!Number.isSafeInteger(value) || value < -1) throw protocolError('offset is not an integer from -1');
  return value;
}

function readAckEntry(reader: BufferReader): AckEntry {
  return {
    partition: reader.u32('partition'),
    offset: reader.integer('offset'),
    deliveryCount: reader.u32('delivery count'),
  };
}

function readJson(reader: BufferReader, what: string): unknown {
  const text = reader.string32(what);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw protocolError(`${what} is not JSON: ${(error as Error).message}`);
  }
}

function slowConsumerPolicy(code: number): WireSlowConsumerPolicy | undefined {
  switch (code) {
    case 0:
      return undefined;
    case 1:
      return 'drop_oldest';
    case 2:
      return 'disconnect';
    default:
      throw protocolError(`unknown slow consumer policy ${code}`);
  }
}

/**
 * Decodes one frame whose header has been read: `type`, `flags` and `requestId`, with the
 * payload in `buffer[start, end)`.
 */
export function decodeFrame(
  type: number,
  flags: number,
  requestId: number,
  buffer: Buffer,
  start: number,
  end: number,
): Frame {
  const reader = new BufferReader(buffer, start, end);
  const frame = decodePayload(type, flags, requestId, reader);
  if (frame.kind !== 'unsupported') reader.end(`${frame.kind} frame`);
  return frame;
}

function decodePayload(type: number, flags: number, requestId: number, reader: BufferReader): Frame {
  switch (type) {
    case FrameType.hello: {
      if (reader.u32('magic') !== helloMagic) throw protocolError('HELLO does not start with "WEIR"');
      const versionMin = reader.u16('version min');
      const versionMax = reader.u16('version max');
      const clientName = reader.string16('client name');
      const bits = reader.u8('credential bits');
      if (bits > 3) throw protocolError('HELLO has reserved credential bits set');
      const username = bits & 1 ? reader.string16('username') : undefined;
      const password = bits & 2 ? reader.bytes32('password') : undefined;
      const heartbeatMs = reader.u32('heartbeat interval');
      const frameBytesMax = reader.u32('frame bytes max');
      return {
        kind: 'hello',
        requestId,
        versionMin,
        versionMax,
        clientName,
        ...(username !== undefined ? { username } : {}),
        ...(password !== undefined ? { password } : {}),
        heartbeatMs,
        frameBytesMax,
      };
    }
    case FrameType.welcome:
      return {
        kind: 'welcome',
        requestId,
        version: reader.u16('version'),
        serverName: reader.string16('server name'),
        sessionId: reader.string16('session id'),
        heartbeatMs: reader.u32('heartbeat interval'),
        frameBytesMax: reader.u32('frame bytes max'),
      };
    case FrameType.ping:
      return { kind: 'ping', requestId };
    case FrameType.pong:
      return { kind: 'pong', requestId };
    case FrameType.ok:
      return { kind: 'ok', requestId };
    case FrameType.error:
      return {
        kind: 'error',
        requestId,
        fatal: (flags & FrameFlags.fatal) !== 0,
        code: reader.string16('error code'),
        message: reader.string32('error message'),
      };
    case FrameType.goodbye:
      return { kind: 'goodbye', requestId, reason: reader.string32('reason') };
    case FrameType.publish: {
      const count = reader.count32('message count', publishBytesMin);
      const messages: WirePublish[] = new Array<WirePublish>(count);
      for (let index = 0; index < count; index++) messages[index] = readPublishRecord(reader);
      return { kind: 'publish', requestId, confirm: (flags & FrameFlags.confirm) !== 0, messages };
    }
    case FrameType.publishAck: {
      const count = reader.count32('result count', 1 + 2 + 4);
      const results = [];
      for (let index = 0; index < count; index++) {
        const status = reader.u8('status');
        if (status === 0) {
          results.push({
            ok: true as const,
            stream: reader.string16('stream'),
            partition: reader.u32('partition'),
            offset: readAckOffset(reader),
            duplicate: reader.boolean('duplicate'),
          });
        } else if (status === 1) {
          results.push({
            ok: false as const,
            code: reader.string16('error code'),
            message: reader.string32('error message'),
          });
        } else {
          throw protocolError(`unknown publish status ${status}`);
        }
      }
      return { kind: 'publishAck', requestId, results };
    }
    case FrameType.attach:
      return {
        kind: 'attach',
        requestId,
        subscriptionId: reader.u32('subscription id'),
        stream: reader.string16('stream'),
        consumer: reader.string16('consumer'),
        credit: reader.u32('credit'),
        creditOnAck: reader.boolean('credit on ack'),
      };
    case FrameType.detach:
      return { kind: 'detach', requestId, subscriptionId: reader.u32('subscription id') };
    case FrameType.credit:
      return {
        kind: 'credit',
        requestId,
        subscriptionId: reader.u32('subscription id'),
        credit: reader.u32('credit'),
      };
    case FrameType.deliver: {
      const subscriptionId = reader.u32('subscription id');
      return { kind: 'deliver', requestId, subscriptionId, deliveries: readDeliveries(reader) };
    }
    case FrameType.subscriptionClosed: {
      const subscriptionId = reader.u32('subscription id');
      const hasError = reader.boolean('has error');
      if (!hasError) return { kind: 'subscriptionClosed', requestId, subscriptionId };
      const code = reader.string16('error code');
      const message = reader.string32('error message');
      return { kind: 'subscriptionClosed', requestId, subscriptionId, error: { code, message } };
    }
    case FrameType.subscribeLive: {
      const subscriptionId = reader.u32('subscription id');
      const filter = reader.string16('filter');
      const bits = reader.u8('option bits');
      if (bits > 7) throw protocolError('SUBSCRIBE_LIVE has reserved option bits set');
      const queueGroup = bits & 1 ? reader.string16('queue group') : undefined;
      const bufferMessagesMax = bits & 4 ? reader.u32('buffer messages max') : undefined;
      const policy = slowConsumerPolicy(reader.u8('slow consumer policy'));
      return {
        kind: 'subscribeLive',
        requestId,
        subscriptionId,
        filter,
        noLocal: (bits & 2) !== 0,
        ...(queueGroup !== undefined ? { queueGroup } : {}),
        ...(bufferMessagesMax !== undefined ? { bufferMessagesMax } : {}),
        ...(policy !== undefined ? { slowConsumerPolicy: policy } : {}),
      };
    }
    case FrameType.liveDeliver: {
      const subscriptionId = reader.u32('subscription id');
      const count = reader.count32('message count', messageBytesMin);
      const messages: WireMessage[] = new Array<WireMessage>(count);
      for (let index = 0; index < count; index++) messages[index] = readMessageRecord(reader);
      if ((flags & FrameFlags.dropped) === 0)
        return { kind: 'liveDeliver', requestId, subscriptionId, messages };
      const droppedCount = reader.u32('dropped count');
      return { kind: 'liveDeliver', requestId, subscriptionId, messages, droppedCount };
    }
    case FrameType.fetch:
      return {
        kind: 'fetch',
        requestId,
        stream: reader.string16('stream'),
        consumer: reader.string16('consumer'),
        batch: reader.u32('batch'),
        expiresMs: reader.u32('expires'),
      };
    case FrameType.fetchResult:
      return { kind: 'fetchResult', requestId, deliveries: readDeliveries(reader) };
    case FrameType.ack: {
      const stream = reader.string16('stream');
      const consumer = reader.string16('consumer');
      const count = reader.count32('ack count', ackEntryBytes);
      const entries: AckEntry[] = new Array<AckEntry>(count);
      for (let index = 0; index < count; index++) entries[index] = readAckEntry(reader);
      return {
        kind: 'ack',
        requestId,
        cumulative: (flags & FrameFlags.cumulative) !== 0,
        stream,
        consumer,
        entries,
      };
    }
    case FrameType.nack: {
      const stream = reader.string16('stream');
      const consumer = reader.string16('consumer');
      const count = reader.count32('nack count', ackEntryBytes + 1);
      const entries: NackEntry[] = [];
      for (let index = 0; index < count; index++) {
        const entry = readAckEntry(reader);
        const bits = reader.u8('nack bits');
        if (bits > 3) throw protocolError('NACK entry has reserved bits set');
        const delayMs = bits & 1 ? reader.u32('delay') : undefined;
        const reason = bits & 2 ? reader.string32('reason') : undefined;
        entries.push({
          ...entry,
          ...(delayMs !== undefined ? { delayMs } : {}),
          ...(reason !== undefined ? { reason } : {}),
        });
      }
      return { kind: 'nack', requestId, stream, consumer, entries };
    }
    case FrameType.term: {
      const stream = reader.string16('stream');
      const consumer = reader.string16('consumer');
      const count = reader.count32('term count', ackEntryBytes + 1);
      const entries: TermEntry[] = [];
      for (let index = 0; index < count; index++) {
        const entry = readAckEntry(reader);
        const bits = reader.u8('term bits');
        if (bits > 1) throw protocolError('TERM entry has reserved bits set');
        entries.push(bits & 1 ? { ...entry, reason: reader.string32('reason') } : entry);
      }
      return { kind: 'term', requestId, stream, consumer, entries };
    }
    case FrameType.request:
      return {
        kind: 'request',
        requestId,
        timeoutMs: reader.u32('timeout'),
        message: readPublishRecord(reader),
      };
    case FrameType.transactionCommit: {
      const timeoutMs = reader.u32('timeout');
      const count = reader.count32('message count', publishBytesMin);
      const messages: WirePublish[] = new Array<WirePublish>(count);
      for (let index = 0; index < count; index++) messages[index] = readPublishRecord(reader);
      const ackCount = reader.count32('ack count', 4 + ackEntryBytes);
      const acks: TransactionAck[] = new Array<TransactionAck>(ackCount);
      for (let index = 0; index < ackCount; index++) {
        const stream = reader.string16('stream');
        const consumer = reader.string16('consumer');
        acks[index] = { stream, consumer, ...readAckEntry(reader) };
      }
      return { kind: 'transaction', requestId, timeoutMs, messages, acks };
    }
    case FrameType.response:
      return { kind: 'response', requestId, message: readMessageRecord(reader) };
    case FrameType.settleResult: {
      const count = reader.count32('outcome count', 1);
      const outcomes: SettleOutcome[] = new Array<SettleOutcome>(count);
      for (let index = 0; index < count; index++) {
        const code = reader.u8('outcome');
        const outcome = settleOutcomes[code];
        if (outcome === undefined) throw protocolError(`unknown settle outcome ${code}`);
        outcomes[index] = outcome;
      }
      return { kind: 'settleResult', requestId, outcomes };
    }
    case FrameType.adminResult:
      return { kind: 'adminResult', requestId, body: readJson(reader, 'admin result') };
    default: {
      const operation = adminByType.get(type);
      if (operation !== undefined) {
        return { kind: 'admin', requestId, operation, body: readJson(reader, `${operation} request`) };
      }
      return { kind: 'unsupported', requestId, type };
    }
  }
}
