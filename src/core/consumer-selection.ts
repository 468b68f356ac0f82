// Which of the messages a consumer has read it delivers, and in what order (core2):
//
// - Selector (JMS message selector, selector/selector.ts): a message the selector does not
//   select is never delivered to this consumer. It is settled for the consumer at once, as if
//   acked (so the ack floor moves on and retention can reclaim it), and never redelivered.
//   DESIGN.md §4's no-scan rule still holds for subjects: the subject filter picks offsets at
//   publish time through the trie, and the selector is then evaluated once per subject-matched
//   message, compiled to closures; a selector never causes a read of a message the subject
//   filter excludes. Put coarse routing in subjects and fine conditions in selectors. On a
//   queue, each selector gets its own consumer; a message two selectors both select goes to
//   both consumers.
//
// - Priority (0–9, higher first) on queues: `shared` consumers of `workqueue` streams (other
//   streams and dispatches keep log order, which users of replayable streams expect): among the
//   messages available (the read-ahead window, at most 512 per partition per read),
//   higher priorities are delivered first, FIFO within one priority. Ordered dispatches
//   (exclusive, failover, key_shared) keep log order and ignore priority. Starvation: a
//   window is delivered completely before the next is read, so under constant high-priority
//   load a low-priority message waits at most one window of newer messages; it is never
//   starved. The price is that priority only reorders within a window: a high-priority message
//   published behind a backlog waits for the windows ahead of it.

import type { Consumer } from './consumer.js';
import type { ConsumerPartition } from './consumer-partition.js';
import type { Selector } from './selector/selector.js';
import type { StoredMessage } from './stream-partition.js';

/** Applies the consumer's selector and priority order to a freshly read window. */
export function selectAndOrder(
  consumer: Consumer,
  selector: Selector | undefined,
  partition: ConsumerPartition,
  messages: StoredMessage[],
): StoredMessage[] {
  let kept = messages;
  if (selector !== undefined) {
    kept = [];
    for (const stored of messages) {
      if (selector.matches(stored.message)) {
        kept.push(stored);
      } else if (partition.tracker.ack(stored.offset)) {
        consumer.host.stateLog.recordAck(consumer.name, partition.index, stored.offset);
        consumer.metrics.selectorSkipped += 1;
      }
    }
    if (kept.length < messages.length) consumer.host.onAcked(consumer);
  }
  if (
    kept.length > 1 &&
    consumer.config.dispatch === 'shared' &&
    consumer.host.config.retention === 'workqueue'
  ) {
    // Array.prototype.sort is stable: FIFO within one priority.
    let mixed = false;
    for (let index = 1; index < kept.length && !mixed; index++) {
      mixed = kept[index]!.message.priority !== kept[0]!.message.priority;
    }
    if (mixed) kept = [...kept].sort((left, right) => right.message.priority - left.message.priority);
  }
  return kept;
}
