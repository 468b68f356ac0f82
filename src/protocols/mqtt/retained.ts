// Retained messages (MQTT 3.1.1 §3.3.1.3, 5.0 §3.3.1.3): the last retained message of each
// topic, sent to new subscriptions. The index lives in memory for matching; durability is
// the `$MQTT.retained` stream (DESIGN.md §4), written by the durable-state layer, from which
// the index is rebuilt at start (last message per subject; an empty body is a deletion).

import type { Message } from '../../core/api.js';
import { subjectMatches } from '../../core/subject.js';
import { filterToSubjectFilters, subjectToTopic } from './mapping.js';

export class RetainedIndex {
  /** By subject, in the order they were retained. */
  readonly #bySubject = new Map<string, Message>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get size(): number {
    return this.#bySubject.size;
  }

  /** False when the index is full and `subject` is new: the caller refuses or does not retain. */
  canRetain(subject: string): boolean {
    return this.#bySubject.size < this.#limit || this.#bySubject.has(subject);
  }

  /** Sets or, with an empty body, clears [MQTT-3.3.1-10] the retained message of its subject. */
  set(message: Message): void {
    if (message.body.length === 0) {
      // [MQTT-3.3.1-11]: a zero-byte retained message is not stored.
      this.#bySubject.delete(message.subject);
      return;
    }
    this.#bySubject.delete(message.subject);
    this.#bySubject.set(message.subject, message);
  }

  get(subject: string): Message | undefined {
    return this.#bySubject.get(subject);
  }

  /**
   * Retained messages whose topic matches an MQTT topic filter, dropping the expired ones.
   * A filter without wildcards is one lookup; one with wildcards scans the index.
   */
  match(topicFilter: string, nowMs: number): Message[] {
    const filters = filterToSubjectFilters(topicFilter);
    const found: Message[] = [];
    const wildcard = topicFilter.includes('+') || topicFilter.includes('#');
    if (!wildcard) {
      const message = this.#bySubject.get(filters[0] as string);
      if (message !== undefined && !expired(message, nowMs)) found.push(message);
      return found;
    }
    for (const [subject, message] of this.#bySubject) {
      if (expired(message, nowMs)) {
        this.#bySubject.delete(subject);
        continue;
      }
      if (filters.some((filter) => subjectMatches(filter, subject))) found.push(message);
    }
    return found;
  }

  topics(): string[] {
    return [...this.#bySubject.keys()].map(subjectToTopic);
  }
}

function expired(message: Message, nowMs: number): boolean {
  return message.expiresAtMs !== undefined && message.expiresAtMs <= nowMs;
}
