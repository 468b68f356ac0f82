// Property test: random well-typed selectors, rendered to text, against a small reference
// evaluator that walks its own tree with the JMS truth tables written out by hand. The
// selector is run as `E` and as `NOT (E)`, which together tell TRUE, FALSE and UNKNOWN apart.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { HeaderValue, Message } from '../api.js';
import { createMessage } from '../message.js';
import { compileSelector } from './selector.js';

type Value = string | number | boolean | null;

type Expression =
  | { kind: 'number'; value: number; float: boolean }
  | { kind: 'string'; value: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'identifier'; name: string }
  | { kind: 'negate'; operand: Expression }
  | { kind: 'arithmetic'; operator: '+' | '-' | '*' | '/'; left: Expression; right: Expression }
  | { kind: 'compare'; operator: '=' | '<>' | '<' | '>' | '<=' | '>='; left: Expression; right: Expression }
  | { kind: 'between'; negated: boolean; operand: Expression; low: Expression; high: Expression }
  | { kind: 'in'; negated: boolean; operand: Expression; values: (string | number)[] }
  | { kind: 'like'; negated: boolean; operand: Expression; pattern: PatternPart[] }
  | { kind: 'isNull'; negated: boolean; operand: Expression }
  | { kind: 'not'; operand: Expression }
  | { kind: 'and' | 'or'; left: Expression; right: Expression };

type PatternPart = { kind: 'char'; char: string } | { kind: 'any' } | { kind: 'one' };

const names = ['a', 'b', 's', 'f', 'JMSPriority'] as const;

const headerValue: fc.Arbitrary<HeaderValue | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: -4, max: 4 }),
  fc.constantFrom(0.5, -1.5, 2.25),
  fc.constantFrom('', 'a', 'ab', 'b%', '_a', 'ba!'),
  fc.boolean(),
);

const headers = fc.record({ a: headerValue, b: headerValue, s: headerValue, f: headerValue });

const numberLiteral: fc.Arbitrary<Expression> = fc.oneof(
  fc.integer({ min: 0, max: 6 }).map((value) => ({ kind: 'number' as const, value, float: false })),
  fc.constantFrom(0.5, 1.0, 2.5).map((value) => ({ kind: 'number' as const, value, float: true })),
);

const stringLiteral: fc.Arbitrary<Expression> = fc
  .constantFrom('', 'a', 'ab', "it's", 'b%')
  .map((value) => ({ kind: 'string' as const, value }));

const identifier: fc.Arbitrary<Expression> = fc
  .constantFrom(...names)
  .map((name) => ({ kind: 'identifier' as const, name }));

const patternPart: fc.Arbitrary<PatternPart> = fc.oneof(
  fc.constantFrom('a', 'b', '%', '_', '!').map((char) => ({ kind: 'char' as const, char })),
  fc.constant({ kind: 'any' as const }),
  fc.constant({ kind: 'one' as const }),
);

const { condition } = fc.letrec((tie) => ({
  numeric: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    numberLiteral,
    identifier,
    fc.record({ kind: fc.constant('negate' as const), operand: tie('numeric') as fc.Arbitrary<Expression> }),
    fc.record({
      kind: fc.constant('arithmetic' as const),
      operator: fc.constantFrom('+' as const, '-' as const, '*' as const, '/' as const),
      left: tie('numeric') as fc.Arbitrary<Expression>,
      right: tie('numeric') as fc.Arbitrary<Expression>,
    }),
  ),
  text: fc.oneof(stringLiteral, identifier),
  condition: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    identifier,
    fc.boolean().map((value) => ({ kind: 'boolean' as const, value })),
    fc.constant({ kind: 'null' as const }),
    fc.record({
      kind: fc.constant('compare' as const),
      operator: fc.constantFrom(
        '=' as const,
        '<>' as const,
        '<' as const,
        '>' as const,
        '<=' as const,
        '>=' as const,
      ),
      left: tie('numeric') as fc.Arbitrary<Expression>,
      right: tie('numeric') as fc.Arbitrary<Expression>,
    }),
    fc.record({
      kind: fc.constant('compare' as const),
      operator: fc.constantFrom('=' as const, '<>' as const),
      left: tie('text') as fc.Arbitrary<Expression>,
      right: tie('text') as fc.Arbitrary<Expression>,
    }),
    fc.record({
      kind: fc.constant('between' as const),
      negated: fc.boolean(),
      operand: tie('numeric') as fc.Arbitrary<Expression>,
      low: tie('numeric') as fc.Arbitrary<Expression>,
      high: tie('numeric') as fc.Arbitrary<Expression>,
    }),
    fc.record({
      kind: fc.constant('in' as const),
      negated: fc.boolean(),
      operand: identifier,
      values: fc.array(fc.oneof(fc.constantFrom('a', 'ab', ''), fc.integer({ min: -2, max: 4 })), {
        minLength: 1,
        maxLength: 4,
      }),
    }),
    fc.record({
      kind: fc.constant('like' as const),
      negated: fc.boolean(),
      operand: tie('text') as fc.Arbitrary<Expression>,
      pattern: fc.array(patternPart, { maxLength: 5 }),
    }),
    fc.record({
      kind: fc.constant('isNull' as const),
      negated: fc.boolean(),
      operand: fc.oneof(tie('numeric'), tie('text')) as fc.Arbitrary<Expression>,
    }),
    fc.record({ kind: fc.constant('not' as const), operand: tie('condition') as fc.Arbitrary<Expression> }),
    fc.record({
      kind: fc.constantFrom('and' as const, 'or' as const),
      left: tie('condition') as fc.Arbitrary<Expression>,
      right: tie('condition') as fc.Arbitrary<Expression>,
    }),
  ),
}));

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function render(expression: Expression): string {
  switch (expression.kind) {
    case 'number':
      return expression.float ? expression.value.toFixed(1) : String(expression.value);
    case 'string':
      return quote(expression.value);
    case 'boolean':
      return expression.value ? 'TRUE' : 'FALSE';
    case 'null':
      return 'NULL';
    case 'identifier':
      return expression.name;
    case 'negate':
      return `-(${render(expression.operand)})`;
    case 'arithmetic':
    case 'compare':
      return `(${render(expression.left)}) ${expression.operator} (${render(expression.right)})`;
    case 'between':
      return `(${render(expression.operand)}) ${expression.negated ? 'NOT ' : ''}BETWEEN (${render(expression.low)}) AND (${render(expression.high)})`;
    case 'in':
      return `${render(expression.operand)} ${expression.negated ? 'NOT ' : ''}IN (${expression.values
        .map((value) => (typeof value === 'string' ? quote(value) : String(value)))
        .join(', ')})`;
    case 'like': {
      const pattern = expression.pattern
        .map((part) =>
          part.kind === 'any'
            ? '%'
            : part.kind === 'one'
              ? '_'
              : 'ab'.includes(part.char)
                ? part.char
                : '!' + part.char,
        )
        .join('');
      return `(${render(expression.operand)}) ${expression.negated ? 'NOT ' : ''}LIKE ${quote(pattern)} ESCAPE '!'`;
    }
    case 'isNull':
      return `(${render(expression.operand)}) IS ${expression.negated ? 'NOT ' : ''}NULL`;
    case 'not':
      return `NOT (${render(expression.operand)})`;
    case 'and':
    case 'or':
      return `(${render(expression.left)}) ${expression.kind.toUpperCase()} (${render(expression.right)})`;
  }
}

// The reference: plain recursion, truth tables spelt out.

function isFloat(expression: Expression): boolean {
  if (expression.kind === 'number') return expression.float;
  if (expression.kind === 'negate') return isFloat(expression.operand);
  if (expression.kind === 'arithmetic') return isFloat(expression.left) || isFloat(expression.right);
  return false;
}

function lookup(message: Message, name: string): Value {
  if (name === 'JMSPriority') return message.priority;
  const value = message.headers[name];
  if (value === undefined || Buffer.isBuffer(value)) return null;
  return value;
}

function asTruth(value: Value): 'T' | 'F' | 'U' {
  if (value === null) return 'U';
  return value === true ? 'T' : 'F';
}

const andTable = { TT: 'T', TF: 'F', TU: 'U', FT: 'F', FF: 'F', FU: 'F', UT: 'U', UF: 'F', UU: 'U' } as const;
const orTable = { TT: 'T', TF: 'T', TU: 'T', FT: 'T', FF: 'F', FU: 'U', UT: 'T', UF: 'U', UU: 'U' } as const;
const notTable = { T: 'F', F: 'T', U: 'U' } as const;

function fromTruth(truth: 'T' | 'F' | 'U'): Value {
  return truth === 'U' ? null : truth === 'T';
}

function likeMatches(text: string, pattern: PatternPart[]): boolean {
  if (pattern.length === 0) return text.length === 0;
  const [first, ...rest] = pattern as [PatternPart, ...PatternPart[]];
  if (first.kind === 'any') {
    for (let skip = 0; skip <= text.length; skip++) if (likeMatches(text.slice(skip), rest)) return true;
    return false;
  }
  if (text.length === 0) return false;
  if (first.kind === 'one' || first.char === text[0]) return likeMatches(text.slice(1), rest);
  return false;
}

function compare(operator: string, left: Value, right: Value): Value {
  if (left === null || right === null) return null;
  if (operator === '=' || operator === '<>') {
    if (typeof left !== typeof right) return false;
    return operator === '=' ? left === right : left !== right;
  }
  if (typeof left !== 'number' || typeof right !== 'number') return false;
  if (operator === '<') return left < right;
  if (operator === '>') return left > right;
  if (operator === '<=') return left <= right;
  return left >= right;
}

function reference(expression: Expression, message: Message): Value {
  switch (expression.kind) {
    case 'number':
    case 'string':
    case 'boolean':
      return expression.value;
    case 'null':
      return null;
    case 'identifier':
      return lookup(message, expression.name);
    case 'negate': {
      const value = reference(expression.operand, message);
      return typeof value === 'number' ? -value : null;
    }
    case 'arithmetic': {
      const left = reference(expression.left, message);
      const right = reference(expression.right, message);
      if (typeof left !== 'number' || typeof right !== 'number') return null;
      if (expression.operator === '+') return left + right;
      if (expression.operator === '-') return left - right;
      if (expression.operator === '*') return left * right;
      if (isFloat(expression.left) || isFloat(expression.right)) return left / right;
      if (Number.isInteger(left) && Number.isInteger(right)) {
        if (right === 0) return null;
        return Math.trunc(left / right);
      }
      return left / right;
    }
    case 'compare':
      return compare(
        expression.operator,
        reference(expression.left, message),
        reference(expression.right, message),
      );
    case 'between': {
      const value = reference(expression.operand, message);
      const low = reference(expression.low, message);
      const high = reference(expression.high, message);
      if (expression.negated) {
        return fromTruth(
          orTable[`${asTruth(compare('<', value, low))}${asTruth(compare('>', value, high))}`],
        );
      }
      return fromTruth(
        andTable[`${asTruth(compare('>=', value, low))}${asTruth(compare('<=', value, high))}`],
      );
    }
    case 'in': {
      const value = reference(expression.operand, message);
      let truth: 'T' | 'F' | 'U' = 'F';
      for (const item of expression.values) truth = orTable[`${truth}${asTruth(compare('=', value, item))}`];
      return fromTruth(expression.negated ? notTable[truth] : truth);
    }
    case 'like': {
      const value = reference(expression.operand, message);
      if (value === null) return null;
      if (typeof value !== 'string') return expression.negated;
      return likeMatches(value, expression.pattern) !== expression.negated;
    }
    case 'isNull':
      return (reference(expression.operand, message) === null) !== expression.negated;
    case 'not':
      return fromTruth(notTable[asTruth(reference(expression.operand, message))]);
    case 'and':
    case 'or': {
      const table = expression.kind === 'and' ? andTable : orTable;
      const left = asTruth(reference(expression.left, message));
      const right = asTruth(reference(expression.right, message));
      return fromTruth(table[`${left}${right}`]);
    }
  }
}

function toMessage(values: Record<string, HeaderValue | undefined>, priority: number): Message {
  const present: Record<string, HeaderValue> = {};
  for (const [name, value] of Object.entries(values)) if (value !== undefined) present[name] = value;
  return createMessage({ subject: 's', body: '', headers: present, priority }, 0);
}

test('compiled selectors agree with the reference evaluator, in three values', () => {
  fc.assert(
    fc.property(
      condition,
      fc.array(fc.tuple(headers, fc.integer({ min: 0, max: 9 })), { minLength: 1, maxLength: 5 }),
      (expression, messages) => {
        const text = render(expression);
        const selector = compileSelector(text);
        const negated = compileSelector(`NOT (${text})`);
        for (const [values, priority] of messages) {
          const message = toMessage(values, priority);
          const truth = asTruth(reference(expression, message));
          const actual = selector.matches(message) ? 'T' : negated.matches(message) ? 'F' : 'U';
          assert.equal(actual, truth, `${text} on ${JSON.stringify(values)}`);
        }
      },
    ),
    { numRuns: 3000 },
  );
});
