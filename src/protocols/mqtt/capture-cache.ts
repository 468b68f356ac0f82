// Which subjects a stream captures, as the MQTT adapter last saw the core's streams. A QoS 1/2
// PUBLISH whose subject no stream captures needs no confirmation round: the core would
// refuse a confirmed publish with WEIR_NO_STREAM after handing the message to live
// subscribers, and building that error for every message costs more than the rest of the
// publish. So such a message is published fire-and-forget and acknowledged at once.
//
// The view is refreshed at most every `refreshMs`, and at once when the adapter changes its
// own queue streams. A stream a user creates is seen within `refreshMs`; until then a QoS 1
// message to its subjects is still stored by the core (a fire-and-forget publish is captured
// too), only acknowledged before its fsync rather than after.

import type { Clock } from '../../common/clock.js';
import type { StreamInfo } from '../../core/api.js';
import { SubjectTrie } from '../../core/subject-trie.js';

const refreshMs = 250;
const memoMax = 10_000;

export class CaptureCache {
  readonly #listStreams: (() => readonly StreamInfo[]) | undefined;
  readonly #clock: Clock;
  #trie = new SubjectTrie<string>();
  #memo = new Map<string, boolean>();
  #refreshedAtMs = Number.NEGATIVE_INFINITY;

  constructor(listStreams: (() => readonly StreamInfo[]) | undefined, clock: Clock) {
    this.#listStreams = listStreams;
    this.#clock = clock;
  }

  invalidate(): void {
    this.#refreshedAtMs = Number.NEGATIVE_INFINITY;
  }

  /** True when some stream captures `subject` (always true when streams cannot be listed). */
  captured(subject: string): boolean {
    if (this.#listStreams === undefined) return true;
    const nowMs = this.#clock.nowMs();
    if (nowMs - this.#refreshedAtMs >= refreshMs) this.#refresh(nowMs);
    let captured = this.#memo.get(subject);
    if (captured === undefined) {
      captured = this.#trie.hasMatch(subject);
      if (this.#memo.size >= memoMax) this.#memo.clear();
      this.#memo.set(subject, captured);
    }
    return captured;
  }

  #refresh(nowMs: number): void {
    const trie = new SubjectTrie<string>();
    for (const info of this.#listStreams?.() ?? []) {
      for (const subject of info.config.subjects) trie.add(subject, info.config.name);
    }
    this.#trie = trie;
    this.#memo = new Map();
    this.#refreshedAtMs = nowMs;
  }
}
