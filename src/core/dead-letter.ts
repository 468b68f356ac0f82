// Dead letters (DESIGN.md §1): a message that exceeded max deliveries, expired or was
// rejected is republished to its stream's dead-letter subject (`$DLQ.<stream>` unless
// configured) with headers that say where it came from and why, then acked in the source.
// A dead-letter stream is an ordinary stream; `redrive` republishes chosen dead letters to
// their original subject with the original headers.

import { InvalidArgumentError } from '../common/errors.js';
import type { Headers, HeaderValue, Message, PublishInput, StreamConfig } from './api.js';
import type { DeadLetterDetails } from './consumer.js';
import type { StoredMessage } from './stream-partition.js';

/** Header names a dead letter carries. */
export const DeadLetterHeader = {
  originalSubject: 'weir-dlq-original-subject',
  stream: 'weir-dlq-stream',
  partition: 'weir-dlq-partition',
  offset: 'weir-dlq-offset',
  consumer: 'weir-dlq-consumer',
  reason: 'weir-dlq-reason',
  deliveryCount: 'weir-dlq-delivery-count',
  lastError: 'weir-dlq-last-error',
} as const;

const deadLetterHeaderNames = new Set<string>(Object.values(DeadLetterHeader));

/** The dead-letter stream created on demand when nothing captures a stream's dead-letter subject. */
export function deadLetterStreamName(streamName: string): string {
  return `DLQ_${streamName}`;
}

export function deadLetterInput(
  source: StreamConfig,
  stored: StoredMessage,
  details: DeadLetterDetails,
): PublishInput {
  const message = stored.message;
  const headers: Record<string, HeaderValue> = { ...message.headers };
  headers[DeadLetterHeader.originalSubject] = message.subject;
  headers[DeadLetterHeader.stream] = source.name;
  headers[DeadLetterHeader.partition] = details.partition;
  headers[DeadLetterHeader.offset] = stored.offset;
  headers[DeadLetterHeader.consumer] = details.consumer;
  headers[DeadLetterHeader.reason] = details.reason;
  headers[DeadLetterHeader.deliveryCount] = details.deliveryCount;
  if (details.lastError !== undefined) headers[DeadLetterHeader.lastError] = details.lastError;
  return { ...carried(message), subject: source.deadLetterSubject, headers };
}

/** The message a redrive publishes: the original subject and headers, without the dead-letter ones. */
export function redriveInput(message: Message): PublishInput {
  const originalSubject = message.headers[DeadLetterHeader.originalSubject];
  if (typeof originalSubject !== 'string') {
    throw new InvalidArgumentError(`message ${message.id} is not a dead letter (no original subject header)`);
  }
  const headers: Record<string, HeaderValue> = {};
  for (const [name, value] of Object.entries(message.headers as Headers)) {
    if (!deadLetterHeaderNames.has(name)) headers[name] = value;
  }
  return { ...carried(message), subject: originalSubject, headers };
}

function carried(message: Message): Omit<PublishInput, 'subject' | 'headers'> {
  const input: {
    body: Buffer;
    key?: string;
    priority: number;
    persistent: boolean;
    correlationId?: string;
    replyTo?: string;
    contentType?: string;
  } = { body: message.body, priority: message.priority, persistent: message.persistent };
  if (message.key !== undefined) input.key = message.key;
  if (message.correlationId !== undefined) input.correlationId = message.correlationId;
  if (message.replyTo !== undefined) input.replyTo = message.replyTo;
  if (message.contentType !== undefined) input.contentType = message.contentType;
  return input;
}
