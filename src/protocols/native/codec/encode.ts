// Frames to bytes. Several frames may be encoded into one BufferWriter back to back; the
// socket then gets one write for all of them.

import { unreachable } from '../../../common/assert.js';
import type { BufferWriter } from './buffer-writer.js';
import type { AckEntry, Frame, WireDelivery } from './frames.js';
import {
  AdminOperation,
  FrameFlags,
  FrameType,
  SettleOutcomeCode,
  SlowConsumerCode,
  helloMagic,
} from './frames.js';
import { writeMessageRecord, writePublishRecord } from './message-record.js';

function writeDeliveries(writer: BufferWriter, deliveries: readonly WireDelivery[]): void {
  writer.u32(deliveries.length);
  for (const delivery of deliveries) {
    writer.u32(delivery.partition);
    writer.f64(delivery.offset);
    writer.u32(delivery.deliveryCount);
    writer.u8(delivery.redelivered ? 1 : 0);
    writeMessageRecord(writer, delivery.message);
  }
}

function writeAckEntry(writer: BufferWriter, entry: AckEntry): void {
  writer.u32(entry.partition);
  writer.f64(entry.offset);
  writer.u32(entry.deliveryCount);
}

function typeAndFlags(frame: Frame): [number, number] {
  if (frame.kind === 'publish') return [FrameType.publish, frame.confirm ? FrameFlags.confirm : 0];
  if (frame.kind === 'error') return [FrameType.error, frame.fatal ? FrameFlags.fatal : 0];
  if (frame.kind === 'ack') return [FrameType.ack, frame.cumulative ? FrameFlags.cumulative : 0];
  if (frame.kind === 'liveDeliver')
    return [FrameType.liveDeliver, (frame.droppedCount ?? 0) > 0 ? FrameFlags.dropped : 0];
  if (frame.kind === 'admin') return [AdminOperation[frame.operation], 0];
  if (frame.kind === 'transaction') return [FrameType.transactionCommit, 0];
  if (frame.kind === 'unsupported') return [frame.type, 0];
  return [FrameType[frame.kind], 0];
}

/** Appends one frame to `writer`. */
export function encodeFrame(writer: BufferWriter, frame: Frame): void {
  const start = writer.position;
  const [type, flags] = typeAndFlags(frame);
  writer.u32(0);
  writer.u8(type);
  writer.u8(flags);
  writer.u32(frame.requestId);
  writePayload(writer, frame);
  writer.patchU32(start, writer.position - start - 4);
}

function writePayload(writer: BufferWriter, frame: Frame): void {
  switch (frame.kind) {
    case 'hello':
      writer.u32(helloMagic);
      writer.u16(frame.versionMin);
      writer.u16(frame.versionMax);
      writer.string16(frame.clientName);
      writer.u8((frame.username !== undefined ? 1 : 0) | (frame.password !== undefined ? 2 : 0));
      if (frame.username !== undefined) writer.string16(frame.username);
      if (frame.password !== undefined) writer.bytes32(frame.password);
      writer.u32(frame.heartbeatMs);
      writer.u32(frame.frameBytesMax);
      return;
    case 'welcome':
      writer.u16(frame.version);
      writer.string16(frame.serverName);
      writer.string16(frame.sessionId);
      writer.u32(frame.heartbeatMs);
      writer.u32(frame.frameBytesMax);
      return;
    case 'ping':
    case 'pong':
    case 'ok':
    case 'unsupported':
      return;
    case 'error':
      writer.string16(frame.code);
      writer.string32(frame.message);
      return;
    case 'goodbye':
      writer.string32(frame.reason);
      return;
    case 'publish':
      writer.u32(frame.messages.length);
      for (const message of frame.messages) writePublishRecord(writer, message);
      return;
    case 'publishAck':
      writer.u32(frame.results.length);
      for (const result of frame.results) {
        if (result.ok) {
          writer.u8(0);
          writer.string16(result.stream);
          writer.u32(result.partition);
          writer.f64(result.offset);
          writer.u8(result.duplicate ? 1 : 0);
        } else {
          writer.u8(1);
          writer.string16(result.code);
          writer.string32(result.message);
        }
      }
      return;
    case 'attach':
      writer.u32(frame.subscriptionId);
      writer.string16(frame.stream);
      writer.string16(frame.consumer);
      writer.u32(frame.credit);
      writer.u8(frame.creditOnAck ? 1 : 0);
      return;
    case 'detach':
      writer.u32(frame.subscriptionId);
      return;
    case 'credit':
      writer.u32(frame.subscriptionId);
      writer.u32(frame.credit);
      return;
    case 'deliver':
      writer.u32(frame.subscriptionId);
      writeDeliveries(writer, frame.deliveries);
      return;
    case 'subscriptionClosed':
      writer.u32(frame.subscriptionId);
      writer.u8(frame.error === undefined ? 0 : 1);
      if (frame.error !== undefined) {
        writer.string16(frame.error.code);
        writer.string32(frame.error.message);
      }
      return;
    case 'subscribeLive':
      writer.u32(frame.subscriptionId);
      writer.string16(frame.filter);
      writer.u8(
        (frame.queueGroup !== undefined ? 1 : 0) |
          (frame.noLocal ? 2 : 0) |
          (frame.bufferMessagesMax !== undefined ? 4 : 0),
      );
      if (frame.queueGroup !== undefined) writer.string16(frame.queueGroup);
      if (frame.bufferMessagesMax !== undefined) writer.u32(frame.bufferMessagesMax);
      writer.u8(SlowConsumerCode[frame.slowConsumerPolicy ?? 'default']);
      return;
    case 'liveDeliver':
      writer.u32(frame.subscriptionId);
      writer.u32(frame.messages.length);
      for (const message of frame.messages) writeMessageRecord(writer, message);
      if ((frame.droppedCount ?? 0) > 0) writer.u32(Math.min(frame.droppedCount ?? 0, 0xffffffff));
      return;
    case 'fetch':
      writer.string16(frame.stream);
      writer.string16(frame.consumer);
      writer.u32(frame.batch);
      writer.u32(frame.expiresMs);
      return;
    case 'fetchResult':
      writeDeliveries(writer, frame.deliveries);
      return;
    case 'ack':
      writer.string16(frame.stream);
      writer.string16(frame.consumer);
      writer.u32(frame.entries.length);
      for (const entry of frame.entries) writeAckEntry(writer, entry);
      return;
    case 'nack':
      writer.string16(frame.stream);
      writer.string16(frame.consumer);
      writer.u32(frame.entries.length);
      for (const entry of frame.entries) {
        writeAckEntry(writer, entry);
        writer.u8((entry.delayMs !== undefined ? 1 : 0) | (entry.reason !== undefined ? 2 : 0));
        if (entry.delayMs !== undefined) writer.u32(entry.delayMs);
        if (entry.reason !== undefined) writer.string32(entry.reason);
      }
      return;
    case 'term':
      writer.string16(frame.stream);
      writer.string16(frame.consumer);
      writer.u32(frame.entries.length);
      for (const entry of frame.entries) {
        writeAckEntry(writer, entry);
        writer.u8(entry.reason !== undefined ? 1 : 0);
        if (entry.reason !== undefined) writer.string32(entry.reason);
      }
      return;
    case 'request':
      writer.u32(frame.timeoutMs);
      writePublishRecord(writer, frame.message);
      return;
    case 'transaction':
      writer.u32(frame.timeoutMs);
      writer.u32(frame.messages.length);
      for (const message of frame.messages) writePublishRecord(writer, message);
      writer.u32(frame.acks.length);
      for (const ack of frame.acks) {
        writer.string16(ack.stream);
        writer.string16(ack.consumer);
        writeAckEntry(writer, ack);
      }
      return;
    case 'response':
      writeMessageRecord(writer, frame.message);
      return;
    case 'settleResult':
      writer.u32(frame.outcomes.length);
      for (const outcome of frame.outcomes) writer.u8(SettleOutcomeCode[outcome]);
      return;
    case 'admin':
    case 'adminResult':
      writer.string32(JSON.stringify(frame.body) ?? 'null');
      return;
    default:
      unreachable(frame, 'frame kind');
  }
}
