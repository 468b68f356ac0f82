// JMS destinations and how they map onto Weir (DESIGN.md §1, §6):
//   Queue q            → publish to subject q; consume the queue's shared durable consumer on
//                        its workqueue stream (created on first use by createQueue, named as
//                        for every protocol: src/core/destinations.ts), the queue STOMP
//                        `/queue/q` reaches too.
//   Topic t            → publish to subject t; a plain consumer is a live subscription (at-most-
//                        once, nothing stored); a durable one is a durable consumer on the
//                        interest stream that captures t, named by client id and name
//                        (ensureDurableSubscription in src/core/destinations.ts).
//   TemporaryQueue/Topic → an inbox subject `$INBOX.<id>` held live by the creating
//                        connection; gone when it closes.

import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../../common/errors.js';

export interface Queue {
  readonly kind: 'queue';
  readonly queueName: string;
  toString(): string;
}

export interface Topic {
  readonly kind: 'topic';
  readonly topicName: string;
  toString(): string;
}

export interface TemporaryQueue {
  readonly kind: 'temporary-queue';
  readonly queueName: string;
  delete(): Promise<void>;
  toString(): string;
}

export interface TemporaryTopic {
  readonly kind: 'temporary-topic';
  readonly topicName: string;
  delete(): Promise<void>;
  toString(): string;
}

export type Destination = Queue | Topic | TemporaryQueue | TemporaryTopic;

function checkName(name: string, what: string): void {
  if (typeof name !== 'string' || name === '')
    throw new InvalidArgumentError(`${what} name must be a non-empty string`);
}

export function queue(name: string): Queue {
  checkName(name, 'queue');
  return { kind: 'queue', queueName: name, toString: () => `queue://${name}` };
}

export function topic(name: string): Topic {
  checkName(name, 'topic');
  return { kind: 'topic', topicName: name, toString: () => `topic://${name}` };
}

export function inboxSubject(): string {
  return `$INBOX.${randomBytes(12).toString('hex')}`;
}

/** The subject a destination publishes to. */
export function subjectOf(destination: Destination): string {
  return destination.kind === 'queue' || destination.kind === 'temporary-queue'
    ? destination.queueName
    : destination.topicName;
}

/** A queue or topic named by a received message's reply-to. */
export function destinationFromReplyTo(replyTo: string | undefined, kind: unknown): Destination | undefined {
  if (replyTo === undefined) return undefined;
  return kind === 'topic' ? topic(replyTo) : queue(replyTo);
}
