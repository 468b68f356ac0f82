// A trie of subject filters, for routing a published subject to everything that wants it:
// stream subject filters, consumer filters, live subscriptions.
//
// Each node is one token position. A node has literal children by token, and at most one
// `*` child and one `>` child; a filter's values sit on the node where the filter ends.
// Matching a subject walks, for each token, the literal child with that token, the `*`
// child and the `>` child, so its cost grows with the number of filters that match (and
// with the subject's depth), never with the number of filters that do not.
//
// The trie holds a set of (filter, value) pairs: adding the same pair twice keeps one.
// `match` returns each matching value ONCE, even when it was added under several filters
// that all match (`orders.*` and `orders.>` both match `orders.eu`). Deduplicating costs
// nothing unless some value really is registered under more than one filter; the trie
// tracks that count. Callers compare values by identity (SameValueZero, as a Set does).
//
// The `$` rule of subject.ts holds here too: a subject whose first token starts with `$` is
// not matched by filters whose first token is a wildcard.

import { validateFilter } from './subject.js';

interface TrieNode<T> {
  literals: Map<string, TrieNode<T>> | undefined;
  star: TrieNode<T> | undefined;
  tail: TrieNode<T> | undefined;
  /** Values of filters that end at this node. */
  values: Set<T> | undefined;
}

function createNode<T>(): TrieNode<T> {
  return { literals: undefined, star: undefined, tail: undefined, values: undefined };
}

function isEmptyNode<T>(node: TrieNode<T>): boolean {
  return (
    node.values === undefined &&
    node.star === undefined &&
    node.tail === undefined &&
    (node.literals === undefined || node.literals.size === 0)
  );
}

const dollar = 0x24;

export class SubjectTrie<T> {
  readonly #root: TrieNode<T> = createNode();
  #size = 0;
  /** How many filters each value is registered under. */
  readonly #filterCounts = new Map<T, number>();
  /** Values registered under more than one filter; when 0, matches need no dedupe. */
  #multiFilterValueCount = 0;

  /** Number of (filter, value) pairs held. */
  get size(): number {
    return this.#size;
  }

  /** Adds `value` under `filter` (validated; throws WEIR_INVALID_SUBJECT). Idempotent. */
  add(filter: string, value: T): void {
    validateFilter(filter);
    let node = this.#root;
    for (const token of filter.split('.')) {
      node = childFor(node, token);
    }
    if (node.values === undefined) node.values = new Set();
    if (node.values.has(value)) return;
    node.values.add(value);
    this.#size++;
    const count = (this.#filterCounts.get(value) ?? 0) + 1;
    this.#filterCounts.set(value, count);
    if (count === 2) this.#multiFilterValueCount++;
  }

  /** Removes the pair; false when it was not there. Prunes nodes left empty. */
  remove(filter: string, value: T): boolean {
    const tokens = filter.split('.');
    const path: TrieNode<T>[] = [this.#root];
    let node: TrieNode<T> | undefined = this.#root;
    for (const token of tokens) {
      node = existingChild(node, token);
      if (node === undefined) return false;
      path.push(node);
    }
    if (node.values === undefined || !node.values.delete(value)) return false;
    if (node.values.size === 0) node.values = undefined;
    this.#size--;
    const count = (this.#filterCounts.get(value) ?? 0) - 1;
    if (count <= 0) this.#filterCounts.delete(value);
    else this.#filterCounts.set(value, count);
    if (count === 1) this.#multiFilterValueCount--;
    // Prune from the leaf upwards while nodes hold nothing.
    for (let depth = tokens.length; depth > 0; depth--) {
      const child = path[depth]!;
      if (!isEmptyNode(child)) break;
      const parent = path[depth - 1]!;
      const token = tokens[depth - 1]!;
      if (token === '*') parent.star = undefined;
      else if (token === '>') parent.tail = undefined;
      else {
        parent.literals!.delete(token);
        if (parent.literals!.size === 0) parent.literals = undefined;
      }
    }
    return true;
  }

  /** Every value whose filter matches `subject` (assumed valid), each value once. */
  match(subject: string): T[] {
    const tokens = subject.split('.');
    const found: Set<T>[] = [];
    const system = subject.charCodeAt(0) === dollar;
    collect(this.#root, tokens, 0, found, system);
    if (found.length === 0) return [];
    if (found.length === 1) return Array.from(found[0]!);
    const result: T[] = [];
    if (this.#multiFilterValueCount === 0) {
      for (const values of found) for (const value of values) result.push(value);
      return result;
    }
    const seen = new Set<T>();
    for (const values of found) {
      for (const value of values) {
        if (seen.has(value)) continue;
        seen.add(value);
        result.push(value);
      }
    }
    return result;
  }

  /** Nodes in the trie, root included: O(nodes), for tests and memory reports. */
  nodeCount(): number {
    let count = 0;
    const pending: TrieNode<T>[] = [this.#root];
    for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
      count++;
      if (node.star !== undefined) pending.push(node.star);
      if (node.tail !== undefined) pending.push(node.tail);
      if (node.literals !== undefined) for (const child of node.literals.values()) pending.push(child);
    }
    return count;
  }

  /** True when at least one filter matches `subject`; cheaper than `match`. */
  hasMatch(subject: string): boolean {
    const found: Set<T>[] = [];
    collect(this.#root, subject.split('.'), 0, found, subject.charCodeAt(0) === dollar);
    return found.length > 0;
  }
}

function childFor<T>(node: TrieNode<T>, token: string): TrieNode<T> {
  if (token === '*') return (node.star ??= createNode());
  if (token === '>') return (node.tail ??= createNode());
  if (node.literals === undefined) node.literals = new Map();
  let child = node.literals.get(token);
  if (child === undefined) {
    child = createNode();
    node.literals.set(token, child);
  }
  return child;
}

function existingChild<T>(node: TrieNode<T>, token: string): TrieNode<T> | undefined {
  if (token === '*') return node.star;
  if (token === '>') return node.tail;
  return node.literals?.get(token);
}

/** Walks every branch that matches tokens[index…], pushing non-empty value sets. */
function collect<T>(
  node: TrieNode<T>,
  tokens: readonly string[],
  index: number,
  found: Set<T>[],
  systemSubject: boolean,
): void {
  if (index === tokens.length) {
    if (node.values !== undefined) found.push(node.values);
    return;
  }
  // [MQTT-4.7.2-1]: at the root, wildcards do not match a `$` first token.
  const wildcardsApply = !(systemSubject && index === 0);
  if (wildcardsApply && node.tail?.values !== undefined) found.push(node.tail.values);
  const literal = node.literals?.get(tokens[index]!);
  if (literal !== undefined) collect(literal, tokens, index + 1, found, systemSubject);
  if (wildcardsApply && node.star !== undefined) collect(node.star, tokens, index + 1, found, systemSubject);
}
