// Frames ⇄ core values. The wire shapes mirror the core's (the codec cannot import core),
// so mapping is mostly a pass-through; this file is where the two meet.

import { AssertionError } from '../../common/assert.js';
import { ErrorCode, WeirError, isWeirError } from '../../common/errors.js';
import type { Delivery, Message, PublishInput } from '../../core/api.js';
import type { AckEntry, ErrorFrame, WireDelivery, WireMessage, WirePublish } from './codec/index.js';

export function publishInputOf(wire: WirePublish): PublishInput {
  return wire;
}

export function wireMessageOf(message: Message): WireMessage {
  return message;
}

export function wireDeliveryOf(delivery: Delivery): WireDelivery {
  return {
    partition: delivery.partition,
    offset: delivery.offset,
    deliveryCount: delivery.deliveryCount,
    redelivered: delivery.redelivered,
    message: delivery.message,
  };
}

/**
 * The WeirError an operation failed with. Programmer errors (assertions) are rethrown so
 * they crash as they should; any other unexpected error becomes WEIR_INTERNAL.
 */
export function weirErrorOf(error: unknown): WeirError {
  if (error instanceof AssertionError) throw error;
  if (isWeirError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new WeirError(ErrorCode.Internal, message, { cause: error });
}

export function errorFrameOf(requestId: number, error: unknown, fatal = false): ErrorFrame {
  const weirError = weirErrorOf(error);
  return { kind: 'error', requestId, fatal, code: weirError.code, message: weirError.message };
}

const settledMessage: Message = Object.freeze({
  subject: '',
  key: undefined,
  headers: Object.freeze({}),
  body: Buffer.alloc(0),
  id: '',
  timestampMs: 0,
  priority: 0,
  expiresAtMs: undefined,
  deliverAfterMs: undefined,
  correlationId: undefined,
  replyTo: undefined,
  contentType: undefined,
  persistent: true,
});

/**
 * The delivery an ACK, NACK or TERM entry names. The core settles a delivery by its
 * coordinates — stream, consumer, partition, offset and attempt (api.ts: an ack must name
 * the attempt it answers) — and never reads its message, so the connection does not keep
 * every delivery it sent: an entry rebuilds the reference, with an empty message.
 */
export function deliveryReference(stream: string, consumer: string, entry: AckEntry): Delivery {
  return {
    message: settledMessage,
    stream,
    consumer,
    partition: entry.partition,
    offset: entry.offset,
    deliveryCount: entry.deliveryCount,
    redelivered: entry.deliveryCount > 1,
  };
}

/**
 * One delivery reference re-pointed at each entry of an ACK frame in turn. An ack reads the
 * reference's coordinates during the call and keeps nothing, so a frame of a thousand acks
 * needs one reference, not a thousand (nack and term keep theirs: deliveryReference).
 */
export class AckReference implements Delivery {
  readonly message = settledMessage;
  readonly stream: string;
  readonly consumer: string;
  partition = 0;
  offset = 0;
  deliveryCount = 0;
  redelivered = false;

  constructor(stream: string, consumer: string) {
    this.stream = stream;
    this.consumer = consumer;
  }

  pointAt(entry: AckEntry): this {
    this.partition = entry.partition;
    this.offset = entry.offset;
    this.deliveryCount = entry.deliveryCount;
    this.redelivered = entry.deliveryCount > 1;
    return this;
  }
}
