import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ErrorCode, isWeirError } from '../common/errors.js';
import { subjectMatches } from './subject.js';
import { SubjectTrie } from './subject-trie.js';

function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

test('match walks literal, * and > branches', () => {
  const trie = new SubjectTrie<string>();
  trie.add('orders.eu.created', 'exact');
  trie.add('orders.*.created', 'star');
  trie.add('orders.>', 'tail');
  trie.add('>', 'all');
  trie.add('payments.>', 'other');
  assert.deepEqual(new Set(trie.match('orders.eu.created')), new Set(['exact', 'star', 'tail', 'all']));
  assert.deepEqual(new Set(trie.match('orders.us.created')), new Set(['star', 'tail', 'all']));
  assert.deepEqual(new Set(trie.match('orders.eu')), new Set(['tail', 'all']));
  assert.deepEqual(trie.match('orders'), ['all']);
  assert.equal(trie.hasMatch('x'), true);
  assert.equal(trie.size, 5);
});

test('$ subjects are not matched by filters starting with a wildcard [MQTT-4.7.2-1]', () => {
  const trie = new SubjectTrie<string>();
  trie.add('>', 'all');
  trie.add('*.orders', 'star');
  trie.add('$DLQ.>', 'dlq');
  trie.add('$DLQ.*', 'dlq-star');
  assert.deepEqual(new Set(trie.match('$DLQ.orders')), new Set(['dlq', 'dlq-star']));
  assert.deepEqual(new Set(trie.match('x.orders')), new Set(['all', 'star']));
  assert.equal(trie.hasMatch('$SYS.x'), false);
});

test('a value under several matching filters is returned once; pairs are a set', () => {
  const trie = new SubjectTrie<string>();
  trie.add('a.*', 'v');
  trie.add('a.>', 'v');
  trie.add('a.b', 'v');
  trie.add('a.b', 'v');
  trie.add('a.b', 'w');
  assert.equal(trie.size, 4);
  assert.deepEqual(sorted(trie.match('a.b').map((value) => value.charCodeAt(0))), [0x76, 0x77]);
  assert.equal(trie.remove('a.*', 'v'), true);
  assert.equal(trie.remove('a.*', 'v'), false);
  assert.deepEqual(new Set(trie.match('a.b')), new Set(['v', 'w']));
  assert.equal(trie.match('a.b').length, 2);
});

test('remove prunes empty nodes and reports absent pairs', () => {
  const trie = new SubjectTrie<number>();
  assert.equal(trie.nodeCount(), 1);
  trie.add('a.b.c.d', 1);
  trie.add('a.b.*', 2);
  trie.add('a.>', 3);
  assert.equal(trie.nodeCount(), 7);
  assert.equal(trie.remove('a.b.c.x', 1), false);
  assert.equal(trie.remove('a.b.c.d', 99), false);
  assert.equal(trie.remove('a.b.c.d', 1), true);
  assert.equal(trie.nodeCount(), 5);
  assert.equal(trie.remove('a.b.*', 2), true);
  assert.equal(trie.nodeCount(), 3);
  assert.equal(trie.remove('a.>', 3), true);
  assert.equal(trie.nodeCount(), 1);
  assert.equal(trie.size, 0);
  assert.deepEqual(trie.match('a.b.c.d'), []);
});

test('add validates the filter', () => {
  const trie = new SubjectTrie<number>();
  assert.throws(
    () => trie.add('a.>.b', 1),
    (error: unknown) => isWeirError(error, ErrorCode.InvalidSubject),
  );
  assert.equal(trie.size, 0);
});

test('the trie agrees with subjectMatches under random adds and removes', () => {
  // A small alphabet and short subjects, so that matches are frequent.
  const token = fc.constantFrom('a', 'b', 'c', '$d');
  const subject = fc.array(token, { minLength: 1, maxLength: 4 }).map((tokens) => tokens.join('.'));
  const filter = fc
    .tuple(fc.array(fc.constantFrom('a', 'b', 'c', '$d', '*'), { minLength: 0, maxLength: 4 }), fc.boolean())
    .filter(([tokens, tail]) => tokens.length > 0 || tail)
    .map(([tokens, tail]) => (tail ? [...tokens, '>'] : tokens).join('.'));
  const operation = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), filter, value: fc.integer({ min: 0, max: 6 }) }),
    fc.record({ kind: fc.constant('remove' as const), filter, value: fc.integer({ min: 0, max: 6 }) }),
  );
  fc.assert(
    fc.property(
      fc.array(operation, { maxLength: 40 }),
      fc.array(subject, { minLength: 1, maxLength: 10 }),
      (operations, subjects) => {
        const trie = new SubjectTrie<number>();
        const model = new Map<string, { filter: string; value: number }>();
        for (const { kind, filter: text, value } of operations) {
          const key = `${text} ${value}`;
          if (kind === 'add') {
            trie.add(text, value);
            model.set(key, { filter: text, value });
          } else {
            assert.equal(trie.remove(text, value), model.delete(key));
          }
        }
        assert.equal(trie.size, model.size);
        for (const published of subjects) {
          const expected = new Set<number>();
          for (const { filter: text, value } of model.values()) {
            if (subjectMatches(text, published)) expected.add(value);
          }
          const actual = trie.match(published);
          assert.equal(actual.length, new Set(actual).size, 'each value once');
          assert.deepEqual(sorted(actual), sorted([...expected]), published);
          assert.equal(trie.hasMatch(published), expected.size > 0);
        }
        // Removing everything leaves only the root.
        for (const { filter: text, value } of model.values()) assert.equal(trie.remove(text, value), true);
        assert.equal(trie.nodeCount(), 1);
      },
    ),
    { numRuns: 300 },
  );
});
