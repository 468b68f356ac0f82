// The clients attached to one consumer, and which of them gets the next message (DESIGN.md §1).
//
// - `exclusive`: one push attachment at a time (a second is refused with WEIR_CONSUMER_BUSY);
//   pull requests are served one at a time, oldest first. Offset order holds.
// - `failover`: many may attach; the oldest attachment is active and gets everything, the
//   others stand by and take over, in attach order, when it leaves. Offset order holds.
// - `shared`: round-robin over every attachment and waiting pull request with credit.
//   Order is traded for parallelism.
// - `key_shared`: a key sticks to the client that has its messages in flight; a key with
//   none in flight goes to the client that wins rendezvous hashing of (key, client id).
//   Per-key order holds, also when clients come and go, because a key moves only when
//   nothing of it is in flight. If the chosen client has no credit, delivery waits for it
//   (head-of-line blocking on that partition) rather than reordering the key. Messages
//   without a key are spread round-robin.

import { keyHash } from './partition-hash.js';
import type { Dispatch, Message } from './api.js';
import type { Receiver } from './consumer-partition.js';

export class ReceiverSet {
  readonly #dispatch: Dispatch;
  push: Receiver[] = [];
  pull: Receiver[] = [];
  #turn = 0;
  /** key → the receiver holding that key's in-flight messages, and how many. */
  readonly #keyOwners = new Map<string, { receiver: Receiver; count: number }>();

  constructor(dispatch: Dispatch) {
    this.#dispatch = dispatch;
  }

  get size(): number {
    return this.push.length + this.pull.length;
  }

  /** The receiver for `message`, or undefined when delivery has to wait. */
  choose(message: Message): Receiver | undefined {
    switch (this.#dispatch) {
      case 'exclusive':
      case 'failover': {
        const active = this.push[0] ?? this.pull[0];
        return active !== undefined && active.credit > 0 ? active : undefined;
      }
      case 'shared':
        return this.#roundRobin();
      case 'key_shared': {
        const key = message.key;
        if (key === undefined) return this.#roundRobin();
        const owner = this.#keyOwners.get(key);
        const receiver = owner?.receiver ?? this.#rendezvous(key);
        return receiver !== undefined && receiver.credit > 0 ? receiver : undefined;
      }
      default:
        return this.#dispatch satisfies never;
    }
  }

  /** Whether any receiver could take a message now (for exclusive/failover: the active one). */
  hasCredit(): boolean {
    if (this.#dispatch === 'exclusive' || this.#dispatch === 'failover') {
      const active = this.push[0] ?? this.pull[0];
      return active !== undefined && active.credit > 0;
    }
    return (
      this.push.some((receiver) => receiver.credit > 0) || this.pull.some((receiver) => receiver.credit > 0)
    );
  }

  noteDelivered(receiver: Receiver, key: string | undefined): void {
    if (this.#dispatch !== 'key_shared' || key === undefined) return;
    const owner = this.#keyOwners.get(key);
    if (owner === undefined) this.#keyOwners.set(key, { receiver, count: 1 });
    else owner.count += 1;
  }

  /** The in-flight message with `key` was settled (acked, nacked, expired). */
  noteSettled(key: string | undefined): void {
    if (this.#dispatch !== 'key_shared' || key === undefined) return;
    const owner = this.#keyOwners.get(key);
    if (owner === undefined) return;
    owner.count -= 1;
    if (owner.count <= 0) this.#keyOwners.delete(key);
  }

  remove(receiver: Receiver): void {
    this.push = this.push.filter((candidate) => candidate !== receiver);
    this.pull = this.pull.filter((candidate) => candidate !== receiver);
  }

  #roundRobin(): Receiver | undefined {
    const total = this.push.length + this.pull.length;
    for (let step = 0; step < total; step++) {
      const index = (this.#turn + step) % total;
      const receiver = index < this.push.length ? this.push[index] : this.pull[index - this.push.length];
      if (receiver !== undefined && receiver.credit > 0) {
        this.#turn = index + 1;
        return receiver;
      }
    }
    return undefined;
  }

  #rendezvous(key: string): Receiver | undefined {
    let best: Receiver | undefined;
    let bestScore = -1;
    for (const receiver of this.push.length > 0 ? this.push : this.pull) {
      const score = keyHash(`${receiver.id}:${key}`);
      if (score > bestScore) {
        best = receiver;
        bestScore = score;
      }
    }
    return best;
  }
}
