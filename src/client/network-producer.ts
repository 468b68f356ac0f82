// Idempotent publishing for the network client: confirmed publishes carry an idempotent
// producer's stamp (producer id, epoch, sequence), so those the client sends again after a
// reconnect are confirmed by the broker, not stored twice (src/core/dedup/producer-state.ts).
//
// The broker counts a producer's sequences per stream partition, from 0, in order, without
// gaps. The client therefore stamps a message only when it knows the partition it lands on:
//
// - the stream: asked once per subject ("which stream captures this subject", then that
//   stream's partition count), remembered up to NativeLimits.producerRoutesMax subjects and
//   forgotten on reconnect;
// - the partition: the key's hash modulo the partition count (partition-hash.ts, the same
//   function the broker uses); without a key only a single-partition stream is known, since
//   the broker spreads keyless messages round-robin.
//
// Messages it cannot place (keyless on several partitions, a subject no stream captures,
// delayed messages, which the broker does not deduplicate) go unstamped: at-least-once, as
// before. The identity (PRODUCER_INIT) is asked for on the first confirmed publish and kept
// across reconnects, which is what makes a re-sent sequence a retry, until a refusal ends it
// (below).
//
// Order: stamps are handed out in the order `publish` is called, and a publish that waits for
// a lookup holds back every later one, so sequences reach the broker in order.
//
// Refusals: a stamped publish the broker refuses (stream full, a stream deleted or
// re-partitioned meanwhile) leaves a gap, so the broker refuses every later stamp of the same
// partition already in flight behind it (WEIR_INVALID_ARGUMENT, the sequence skips ahead);
// those were sent, not stored. The client then ends that identity: it stamps nothing more
// with it, and once every publish sent under it is answered (the identity is "quiet"), the
// publishes refused only because of an earlier refusal of their partition are stamped afresh,
// under a new identity with fresh routes, and sent again ahead of everything published after
// them. So the caller sees only the refused publish's own error; the others are stored once,
// in publishing order. Publishes made meanwhile wait in the queue, as for a lookup.

import { assert } from '../common/assert.js';
import type { WeirError } from '../common/errors.js';
import { ErrorCode, isWeirError } from '../common/errors.js';
import { NativeLimits } from '../common/limits.js';
import type { PublishAck } from '../core/api.js';
import { partitionForKey } from '../core/partition-hash.js';
import type { WireProducerStamp, WirePublish } from '../protocols/native/codec/index.js';

export interface ProducerIdentity {
  readonly producerId: bigint;
  readonly epoch: number;
}

/** The stream that captures a subject, and its partition count; null when none does. */
export interface ProducerRoute {
  readonly stream: string;
  readonly partitions: number;
}

export interface ProducerBroker {
  /** PRODUCER_INIT; rejects WEIR_NOT_SUPPORTED on a broker without idempotent producers. */
  initProducer(): Promise<ProducerIdentity>;
  route(subject: string): Promise<ProducerRoute | null>;
}

/**
 * Sends a message confirmed and calls back with its confirmation or refusal; callbacks, not a
 * promise, since this runs once per confirmed message.
 */
type Send = (
  message: WirePublish,
  resolve: (ack: PublishAck) => void,
  reject: (error: WeirError) => void,
) => void;

/**
 * A route as remembered, with its lane keys (`stream \0 partition`) made once per partition:
 * the same string each time lets the sequence map find it by its cached hash, with no string
 * built per message.
 */
interface KnownRoute extends ProducerRoute {
  readonly laneKeys: string[];
}

function laneOf(route: KnownRoute, partition: number): string {
  return (route.laneKeys[partition] ??= `${route.stream}\u0000${partition}`);
}

/** One confirmed publish, from `publish` until its promise settles. */
interface ProducerEntry {
  readonly message: WirePublish;
  readonly send: Send;
  /** Publishing order, so re-sent entries keep their place. */
  readonly order: number;
  readonly resolve: (ack: PublishAck | PromiseLike<PublishAck>) => void;
  readonly reject: (error: unknown) => void;
}

/** A refusal that may be a consequence of an earlier one: decided once the identity is quiet. */
interface HeldRefusal {
  readonly entry: ProducerEntry;
  readonly lane: string;
  readonly sequence: number;
  readonly error: unknown;
}

/** The stamps handed out under one identity, from PRODUCER_INIT until it ends. */
interface Incarnation {
  readonly identity: ProducerIdentity;
  /** The next sequence per lane (`stream \0 partition`). */
  readonly sequences: Map<string, number>;
  /** Per lane, the lowest sequence the broker refused. */
  readonly lowestRefused: Map<string, number>;
  readonly held: HeldRefusal[];
  /** Stamped publishes sent and not yet answered. */
  inFlight: number;
  ended: boolean;
  /** Resolves once ended and every publish sent under it is answered, with what to send again. */
  readonly quiet: Promise<ProducerEntry[]>;
  readonly becameQuiet: (resends: ProducerEntry[]) => void;
}

export class IdempotentProducer {
  readonly #broker: ProducerBroker;
  /** Undefined until asked for; null when the broker has no idempotent producers. */
  #incarnation: Incarnation | null | undefined;
  /** An ended incarnation whose publishes are not all answered yet: nothing is stamped until then. */
  #ending: Incarnation | undefined;
  readonly #routes = new Map<string, KnownRoute | null>();
  /** Publishes waiting for a lookup or for an ended identity to go quiet, in publishing order. */
  #queue: ProducerEntry[] = [];
  #pumping = false;
  #order = 0;

  constructor(broker: ProducerBroker) {
    this.#broker = broker;
  }

  /** Stamps the message if it can be placed, and sends it; resolves with its confirmation. */
  publish(message: WirePublish, send: Send): Promise<PublishAck> {
    return new Promise((resolve, reject) => {
      const entry: ProducerEntry = { message, send, order: this.#order++, resolve, reject };
      if (
        !this.#pumping &&
        this.#queue.length === 0 &&
        this.#ending === undefined &&
        this.#incarnation !== undefined &&
        this.#routes.has(message.subject)
      ) {
        this.#send(entry);
        return;
      }
      this.#queue.push(entry);
      void this.#pump();
    });
  }

  /** Routes may have changed while the client was away; the identity and sequences stand. */
  reconnected(): void {
    this.#routes.clear();
  }

  /**
   * Sends the queue in order, one lookup at a time; after an identity ended, waits until it
   * is quiet and puts what must be sent again at the front (all of it was sent before
   * anything still queued was).
   */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0 || this.#ending !== undefined) {
        const ending = this.#ending;
        if (ending !== undefined) {
          const resends = await ending.quiet;
          this.#ending = undefined;
          this.#queue.unshift(...resends);
          continue;
        }
        const entry = this.#queue[0] as ProducerEntry;
        try {
          await this.#prepare(entry.message.subject);
        } catch (error) {
          this.#queue.shift();
          entry.reject(error);
          continue;
        }
        // A refusal answered while this lookup ran: recover first, then look up again.
        if (this.#ending !== undefined) continue;
        this.#queue.shift();
        this.#send(entry);
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #prepare(subject: string): Promise<void> {
    if (this.#incarnation === undefined) {
      let identity: ProducerIdentity;
      try {
        identity = await this.#broker.initProducer();
      } catch (error) {
        if (!isWeirError(error, ErrorCode.NotSupported)) throw error;
        this.#incarnation = null;
        return;
      }
      let becameQuiet: (resends: ProducerEntry[]) => void = () => undefined;
      const quiet = new Promise<ProducerEntry[]>((resolve) => (becameQuiet = resolve));
      this.#incarnation = {
        identity,
        sequences: new Map(),
        lowestRefused: new Map(),
        held: [],
        inFlight: 0,
        ended: false,
        quiet,
        becameQuiet,
      };
    }
    if (this.#incarnation === null || this.#routes.has(subject)) return;
    const route = await this.#broker.route(subject);
    if (this.#routes.size >= NativeLimits.producerRoutesMax) this.#routes.clear();
    this.#routes.set(subject, route === null ? null : { ...route, laneKeys: [] });
  }

  #send(entry: ProducerEntry): void {
    const { message } = entry;
    const incarnation = this.#incarnation;
    const route = this.#routes.get(message.subject);
    const partition = route === undefined || route === null ? undefined : partitionOf(message, route);
    if (
      incarnation === undefined ||
      incarnation === null ||
      route === undefined ||
      route === null ||
      partition === undefined ||
      message.delayMs !== undefined ||
      message.deliverAfterMs !== undefined
    ) {
      entry.send(message, entry.resolve, entry.reject);
      return;
    }
    const { identity } = incarnation;
    const lane = laneOf(route, partition);
    const sequence = incarnation.sequences.get(lane) ?? 0;
    incarnation.sequences.set(lane, sequence + 1);
    const stamp: WireProducerStamp = { id: identity.producerId, epoch: identity.epoch, sequence };
    incarnation.inFlight += 1;
    assert(message.producer === undefined, 'a message is stamped here only, on a copy');
    // The stamp goes first: a copy made by spreading and then adding a property gets a shape
    // of its own, which makes the codec's property checks megamorphic (about ten times
    // slower to encode, measured); spreading into a literal that starts with the stamp does not.
    entry.send(
      { producer: stamp, ...message },
      (result) => {
        incarnation.inFlight -= 1;
        // Stored elsewhere than predicted: the stream changed, and this lane's count with it.
        if (result.stream !== route.stream || result.partition !== partition) this.#end(incarnation);
        entry.resolve(result);
        this.#checkQuiet(incarnation);
      },
      (error: unknown) => {
        incarnation.inFlight -= 1;
        const lowest = incarnation.lowestRefused.get(lane);
        if (lowest === undefined || sequence < lowest) incarnation.lowestRefused.set(lane, sequence);
        // A gap is refused as an invalid argument; whether this one is a consequence of an
        // earlier refusal is known only once every answer is in (answers to different
        // frames may arrive out of order).
        if (isWeirError(error, ErrorCode.InvalidArgument))
          incarnation.held.push({ entry, lane, sequence, error });
        else entry.reject(error);
        this.#end(incarnation);
        this.#checkQuiet(incarnation);
      },
    );
  }

  /** No more stamps under this identity: the broker expects a sequence the client has passed. */
  #end(incarnation: Incarnation): void {
    if (incarnation.ended) return;
    incarnation.ended = true;
    assert(this.#incarnation === incarnation && this.#ending === undefined, 'one identity ends at a time');
    this.#incarnation = undefined;
    this.#ending = incarnation;
    this.#routes.clear();
    void this.#pump();
  }

  /** Once an ended identity is quiet: refusals behind an earlier one of their lane are sent again. */
  #checkQuiet(incarnation: Incarnation): void {
    if (!incarnation.ended || incarnation.inFlight > 0) return;
    const resends: ProducerEntry[] = [];
    for (const held of incarnation.held) {
      const lowest = incarnation.lowestRefused.get(held.lane) as number;
      if (held.sequence > lowest) resends.push(held.entry);
      else held.entry.reject(held.error);
    }
    incarnation.held.length = 0;
    resends.sort((a, b) => a.order - b.order);
    incarnation.becameQuiet(resends);
  }
}
function partitionOf(message: WirePublish, route: ProducerRoute): number | undefined {
  if (message.key !== undefined) return partitionForKey(message.key, route.partitions);
  return route.partitions === 1 ? 0 : undefined;
}
