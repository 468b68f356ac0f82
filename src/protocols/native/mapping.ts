// Frames ⇄ core values. The wire shapes mirror the core's (the codec cannot import core),
// so mapping is mostly a pass-through; this file is where the two meet.

import { AssertionError } from '../../common/assert.js';
import { ErrorCode, WeirError, isWeirError } from '../../common/errors.js';
import type { Delivery, Message, PublishInput } from '../../core/api.js';
import type { ErrorFrame, WireDelivery, WireMessage, WirePublish } from './codec/index.js';

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

/** The key under which a connection remembers a delivery until it is acked. */
export function deliveryKey(stream: string, consumer: string, partition: number, offset: number): string {
  return `${stream}\u0000${consumer}\u0000${partition}\u0000${offset}`;
}
