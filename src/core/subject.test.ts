import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ErrorCode, isWeirError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import { filtersOverlap, subjectMatches, validateFilter, validateSubject } from './subject.js';

function rejects(validate: (text: string) => void, text: string, pattern: RegExp): void {
  assert.throws(
    () => validate(text),
    (error: unknown) => {
      assert.ok(isWeirError(error, ErrorCode.InvalidSubject), `expected WEIR_INVALID_SUBJECT for ${text}`);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

test('validateSubject accepts ordinary and system subjects', () => {
  for (const subject of [
    'a',
    'orders.eu.created',
    '$DLQ.orders',
    '$SYS.x',
    '_INBOX.abc123',
    'ünïcödé.🙂',
    'a-b_c:d/e',
  ]) {
    validateSubject(subject);
  }
});

test('validateSubject rejects empty tokens, whitespace, control characters and wildcards', () => {
  rejects(validateSubject, '', /empty/);
  rejects(validateSubject, '.a', /empty token/);
  rejects(validateSubject, 'a..b', /empty token/);
  rejects(validateSubject, 'a.', /ends with an empty token/);
  rejects(validateSubject, 'a b', /whitespace/);
  rejects(validateSubject, 'a\tb', /whitespace/);
  rejects(validateSubject, 'a\u0000b', /control/);
  rejects(validateSubject, 'a\u00a0b', /whitespace/);
  rejects(validateSubject, 'a\u2003b', /whitespace/);
  rejects(validateSubject, 'a.\ud800', /lone surrogate/);
  rejects(validateSubject, 'a.\udc00x', /lone surrogate/);
  rejects(validateSubject, 'a.*', /wildcard '\*'.*only in filters/);
  rejects(validateSubject, 'a.>', /wildcard '>'/);
  rejects(validateSubject, 'a.b*', /wildcard/);
  assert.throws(() => validateSubject(42 as unknown as string), /must be a string/);
});

test('validateSubject enforces subjectBytesMax and subjectTokensMax', () => {
  validateSubject('x'.repeat(Limits.subjectBytesMax));
  rejects(validateSubject, 'x'.repeat(Limits.subjectBytesMax + 1), /subjectBytesMax/);
  // Multi-byte characters count in bytes, not characters.
  const euro = '€'.repeat(Math.floor(Limits.subjectBytesMax / 3));
  validateSubject(euro);
  rejects(validateSubject, `${euro}€`, /subjectBytesMax/);
  const deepest = Array.from({ length: Limits.subjectTokensMax }, () => 'a').join('.');
  validateSubject(deepest);
  rejects(validateSubject, `${deepest}.a`, /subjectTokensMax/);
});

test('validateFilter accepts whole-token wildcards and rejects misplaced ones', () => {
  for (const filter of ['>', '*', 'a.*', '*.b', 'a.*.c', 'a.>', '*.*.>', '$DLQ.>', 'a.b'])
    validateFilter(filter);
  rejects(validateFilter, 'a.>.b', /'>' may only be the last token/);
  rejects(validateFilter, '>.a', /last token/);
  rejects(validateFilter, 'a.b*', /inside a token/);
  rejects(validateFilter, 'a.*b', /inside a token/);
  rejects(validateFilter, 'a.>>', /inside a token/);
  rejects(validateFilter, 'a..*', /empty token/);
  rejects(validateFilter, 'a .*', /whitespace/);
  rejects(validateFilter, '', /filter is empty/);
});

test('subjectMatches: * is one token, > is one or more trailing tokens', () => {
  const cases: [string, string, boolean][] = [
    ['a.b', 'a.b', true],
    ['a.b', 'a.c', false],
    ['a.*', 'a.b', true],
    ['a.*', 'a', false],
    ['a.*', 'a.b.c', false],
    ['*.b', 'a.b', true],
    ['a.>', 'a', false],
    ['a.>', 'a.b', true],
    ['a.>', 'a.b.c', true],
    ['>', 'a', true],
    ['>', 'a.b.c', true],
    ['*.*', 'a.b', true],
    ['*.*', 'a', false],
    ['a.*.>', 'a.b', false],
    ['a.*.>', 'a.b.c', true],
  ];
  for (const [filter, subject, expected] of cases) {
    assert.equal(subjectMatches(filter, subject), expected, `${filter} ~ ${subject}`);
  }
});

test('a filter starting with a wildcard does not match $ subjects [MQTT-4.7.2-1]', () => {
  assert.equal(subjectMatches('>', '$DLQ.orders'), false);
  assert.equal(subjectMatches('*.orders', '$DLQ.orders'), false);
  assert.equal(subjectMatches('$DLQ.>', '$DLQ.orders'), true);
  assert.equal(subjectMatches('$DLQ.*', '$DLQ.orders'), true);
  assert.equal(subjectMatches('$DLQ.orders', '$DLQ.orders'), true);
  // Only the first token counts.
  assert.equal(subjectMatches('a.>', 'a.$b'), true);
  assert.equal(subjectMatches('a.*', 'a.$b'), true);
});

test('filtersOverlap agrees with a brute-force search for a common subject', () => {
  const filter = fc
    .tuple(fc.array(fc.constantFrom('a', 'b', '$s', '*'), { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([tokens, tail]) => (tail ? [...tokens, '>'] : tokens).join('.'));
  const filterOnlyTail = fc.constant('>');
  const anyFilter = fc.oneof(filter, filterOnlyTail);
  // Every subject of up to five tokens over the alphabet plus one token nobody names.
  const universe: string[] = [];
  const alphabet = ['a', 'b', '$s', 'z'];
  const extend = (prefix: string[]): void => {
    if (prefix.length > 0) universe.push(prefix.join('.'));
    if (prefix.length === 5) return;
    for (const next of alphabet) extend([...prefix, next]);
  };
  extend([]);
  fc.assert(
    fc.property(anyFilter, anyFilter, (first, second) => {
      const expected = universe.some(
        (subject) => subjectMatches(first, subject) && subjectMatches(second, subject),
      );
      assert.equal(filtersOverlap(first, second), expected, `${first} vs ${second}`);
      assert.equal(filtersOverlap(second, first), expected);
    }),
    { numRuns: 500 },
  );
});
