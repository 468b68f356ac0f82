import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, isWeirError } from '../../common/errors.js';
import { Limits } from '../../common/limits.js';
import type { Headers, Message, PublishInput } from '../api.js';
import { createMessage } from '../message.js';
import { compileSelector } from './selector.js';
import { SelectorSyntaxError } from './selector-error.js';

function message(headers: Headers, extra: Partial<PublishInput> = {}): Message {
  return createMessage({ subject: 'orders.eu', body: 'x', headers, ...extra }, 1_700_000_000_000);
}

function selects(selector: string, headers: Headers, extra: Partial<PublishInput> = {}): boolean {
  return compileSelector(selector).matches(message(headers, extra));
}

function syntaxError(selector: string): SelectorSyntaxError {
  try {
    compileSelector(selector);
  } catch (error) {
    assert.ok(error instanceof SelectorSyntaxError, `a SelectorSyntaxError, got ${String(error)}`);
    assert.ok(isWeirError(error, ErrorCode.InvalidSelector));
    return error;
  }
  assert.fail(`${JSON.stringify(selector)} should not compile`);
}

describe('selector comparisons', () => {
  test('numbers with every operator, mixed exact and approximate', () => {
    assert.equal(selects('amount = 5', { amount: 5 }), true);
    assert.equal(selects('amount = 5.0', { amount: 5 }), true);
    assert.equal(selects('amount <> 5', { amount: 5 }), false);
    assert.equal(selects('amount < 6', { amount: 5 }), true);
    assert.equal(selects('amount > 6', { amount: 5 }), false);
    assert.equal(selects('amount <= 5', { amount: 5 }), true);
    assert.equal(selects('amount >= 5.5', { amount: 5 }), false);
    assert.equal(selects('amount > 1E0', { amount: 5 }), true);
    assert.equal(selects('amount > .5', { amount: 5 }), true);
  });

  test('strings and booleans compare with = and <> only', () => {
    assert.equal(selects("region = 'eu'", { region: 'eu' }), true);
    assert.equal(selects("region <> 'eu'", { region: 'eu' }), false);
    assert.equal(selects("'it''s' = quote", { quote: "it's" }), true);
    assert.equal(selects('flag = TRUE', { flag: true }), true);
    assert.equal(selects('flag <> false', { flag: true }), true);
    // A header string compared by order is FALSE, as a type mismatch.
    assert.equal(selects('region > 1', { region: 'eu' }), false);
    assert.equal(syntaxError("region < 'f'").column, 10);
    assert.equal(syntaxError('TRUE > flag').column, 1);
  });

  test('unlike types are FALSE, not UNKNOWN: NOT of them selects', () => {
    assert.equal(selects("count = '1'", { count: 1 }), false);
    assert.equal(selects("NOT (count = '1')", { count: 1 }), true);
    assert.equal(selects('NOT (flag = 1)', { flag: true }), true);
  });

  test('a missing header is NULL: comparisons are UNKNOWN, and NOT UNKNOWN is UNKNOWN', () => {
    assert.equal(selects('missing = 1', {}), false);
    assert.equal(selects('NOT (missing = 1)', {}), false);
    assert.equal(selects('missing IS NULL', {}), true);
    assert.equal(selects('missing IS NOT NULL', {}), false);
    assert.equal(selects('present IS NOT NULL', { present: 0 }), true);
    assert.equal(selects('NULL = NULL', {}), false);
  });
});

describe('selector logic', () => {
  test('three-valued AND, OR and NOT', () => {
    // UNKNOWN OR TRUE is TRUE; UNKNOWN AND FALSE is FALSE; so NOT of the latter selects.
    assert.equal(selects('missing = 1 OR present = 1', { present: 1 }), true);
    assert.equal(selects('missing = 1 AND present = 1', { present: 1 }), false);
    assert.equal(selects('NOT (missing = 1 AND present = 2)', { present: 1 }), true);
    assert.equal(selects('NOT (missing = 1 AND present = 1)', { present: 1 }), false);
    assert.equal(selects('NOT (missing = 1 OR present = 2)', { present: 1 }), false);
  });

  test('precedence: NOT before AND before OR', () => {
    assert.equal(selects('a = 1 OR a = 2 AND b = 3', { a: 1, b: 0 }), true);
    assert.equal(selects('(a = 1 OR a = 2) AND b = 3', { a: 1, b: 0 }), false);
    assert.equal(selects('NOT a = 1 AND b = 0', { a: 2, b: 0 }), true);
  });

  test('keywords are case-insensitive, identifiers are not', () => {
    assert.equal(selects('a = 1 and not b = 2 Or c Is Null', { a: 1, b: 2 }), true);
    assert.equal(selects('A = 1', { a: 1 }), false);
  });

  test('a boolean header is a condition; a non-boolean one is FALSE', () => {
    assert.equal(selects('urgent', { urgent: true }), true);
    assert.equal(selects('urgent', { urgent: false }), false);
    assert.equal(selects('urgent', { urgent: 'yes' }), false);
    assert.equal(selects('NOT urgent', { urgent: 'yes' }), true);
    assert.equal(selects('NOT urgent', {}), false);
  });
});

describe('selector predicates', () => {
  test('BETWEEN and NOT BETWEEN, with arithmetic bounds', () => {
    assert.equal(selects('age BETWEEN 15 AND 19', { age: 15 }), true);
    assert.equal(selects('age BETWEEN 15 AND 19', { age: 20 }), false);
    assert.equal(selects('age NOT BETWEEN 15 AND 19', { age: 20 }), true);
    assert.equal(selects('age BETWEEN 10 + 5 AND 20 - 1', { age: 19 }), true);
    assert.equal(selects('age BETWEEN low AND 19', { age: 10 }), false);
    // 10 < 15 is TRUE, so NOT BETWEEN is TRUE even with an unknown upper bound.
    assert.equal(selects('age NOT BETWEEN 15 AND high', { age: 10 }), true);
    assert.equal(selects('age NOT BETWEEN 5 AND high', { age: 10 }), false);
  });

  test('IN and NOT IN', () => {
    assert.equal(selects("country IN ('UK', 'US', 'France')", { country: 'UK' }), true);
    assert.equal(selects("country IN ('UK', 'US', 'France')", { country: 'Peru' }), false);
    assert.equal(selects("country NOT IN ('UK', 'US', 'France')", { country: 'Peru' }), true);
    assert.equal(selects("country NOT IN ('UK')", {}), false);
    assert.equal(selects('code IN (1, -2, 3.5)', { code: -2 }), true);
    assert.equal(syntaxError("code IN (-'a')").column, 11);
  });

  test('LIKE with _ and %, ESCAPE, and NULL', () => {
    assert.equal(selects("phone LIKE '12%3'", { phone: '123' }), true);
    assert.equal(selects("phone LIKE '12%3'", { phone: '12993' }), true);
    assert.equal(selects("phone LIKE '12%3'", { phone: '1234' }), false);
    assert.equal(selects("word LIKE 'l_se'", { word: 'lose' }), true);
    assert.equal(selects("word LIKE 'l_se'", { word: 'loose' }), false);
    assert.equal(selects("underscored LIKE '\\_%' ESCAPE '\\'", { underscored: '_foo' }), true);
    assert.equal(selects("underscored LIKE '\\_%' ESCAPE '\\'", { underscored: 'bar' }), false);
    assert.equal(selects("name LIKE 'a.c'", { name: 'abc' }), false);
    assert.equal(selects("name LIKE 'a%'", { name: 'a\nb' }), true);
    assert.equal(selects("name NOT LIKE 'a%'", { name: 'b' }), true);
    assert.equal(selects("name NOT LIKE 'a%'", {}), false);
    assert.equal(selects("name LIKE 'a%'", { name: 1 }), false);
    assert.equal(syntaxError("name LIKE 'a!b' ESCAPE '!'").column, 13);
    assert.equal(syntaxError("name LIKE 'a' ESCAPE 'ab'").column, 22);
  });

  test('arithmetic with Java promotion: integer division truncates, NULL propagates', () => {
    assert.equal(selects('a / 2 = 3', { a: 7 }), true);
    assert.equal(selects('a / 2.0 = 3.5', { a: 7 }), true);
    assert.equal(selects('-a / 2 = -3', { a: 7 }), true);
    assert.equal(selects('a / 0 IS NULL', { a: 7 }), true);
    assert.equal(selects('a * 2 + 1 = 15', { a: 7 }), true);
    assert.equal(selects('a + 2 * 3 = 13', { a: 7 }), true);
    assert.equal(selects('(a + 2) * 3 = 27', { a: 7 }), true);
    assert.equal(selects('a - - 1 = 8', { a: 7 }), true);
    assert.equal(selects('a + missing IS NULL', { a: 7 }), true);
    assert.equal(selects('a + 1 IS NULL', { a: 'seven' }), true);
    assert.equal(syntaxError("a + 'b' = 1").column, 5);
    assert.equal(syntaxError('TRUE * 2 = 1').column, 1);
  });
});

describe('selector system fields', () => {
  test('JMS header fields map to Weir message fields', () => {
    const extra: Partial<PublishInput> = {
      priority: 8,
      correlationId: 'c-1',
      id: 'm-1',
      contentType: 'order',
      persistent: false,
      ttlMs: 1000,
    };
    assert.equal(selects('JMSPriority > 7', {}, extra), true);
    assert.equal(selects('JMSPriority = 4', {}), true);
    assert.equal(selects("JMSCorrelationID = 'c-1'", {}, extra), true);
    assert.equal(selects('JMSCorrelationID IS NULL', {}), true);
    assert.equal(selects("JMSMessageID = 'm-1'", {}, extra), true);
    assert.equal(selects("JMSType = 'order'", {}, extra), true);
    assert.equal(selects("JMSType = 'typed'", { JMSType: 'typed' }, extra), true);
    assert.equal(selects("JMSDeliveryMode = 'NON_PERSISTENT'", {}, extra), true);
    assert.equal(selects("JMSDeliveryMode = 'PERSISTENT'", {}), true);
    assert.equal(selects('JMSTimestamp = 1700000000000', {}), true);
    assert.equal(selects('JMSExpiration = 1700000001000', {}, extra), true);
    assert.equal(selects('JMSExpiration = 0', {}), true);
    assert.equal(selects('JMSDeliveryTime = JMSTimestamp + 500', {}, { delayMs: 500 }), true);
  });

  test('a Buffer header reads as NULL', () => {
    assert.equal(selects('blob IS NULL', { blob: Buffer.from('x') }), true);
  });
});

describe('selector errors', () => {
  test('each names the column', () => {
    assert.equal(syntaxError('a = ').column, 5);
    assert.equal(syntaxError('a = = 1').column, 5);
    assert.equal(syntaxError('a = 1 b').column, 7);
    assert.equal(syntaxError("a = 'open").column, 5);
    assert.equal(syntaxError('a = 1 # 2').column, 7);
    assert.equal(syntaxError('(a = 1').column, 7);
    assert.equal(syntaxError('a = 1 = 2').column, 7);
    assert.equal(syntaxError('a IS 1').column, 6);
    assert.equal(syntaxError('a NOT = 1').column, 7);
    assert.equal(syntaxError('5').column, 1);
    assert.equal(syntaxError("'x' AND a").column, 1);
    assert.equal(syntaxError('12abc = 1').column, 3);
    assert.equal(syntaxError('1e = 1').column, 2);
    assert.equal(syntaxError('a = 99999999999999999999').column, 5);
    assert.equal(syntaxError('AND = 1').column, 1);
    const error = syntaxError('a = ');
    assert.match(error.message, /invalid selector at column 5: expected an expression, found the end/);
  });

  test('length and depth are bounded', () => {
    assert.equal(syntaxError('a = 1' + ' '.repeat(Limits.selectorLengthMax)).code, ErrorCode.InvalidSelector);
    const deep = '('.repeat(Limits.selectorDepthMax + 1) + 'a' + ')'.repeat(Limits.selectorDepthMax + 1);
    assert.match(syntaxError(deep).message, /nests deeper/);
    const notChain = 'NOT '.repeat(Limits.selectorDepthMax + 1) + 'a';
    assert.match(syntaxError(notChain).message, /nests deeper/);
    const shallow = '('.repeat(Limits.selectorDepthMax) + 'a' + ')'.repeat(Limits.selectorDepthMax);
    assert.equal(compileSelector(shallow).matches(message({ a: true })), true);
  });

  test('an empty selector selects everything', () => {
    assert.equal(selects('', {}), true);
    assert.equal(selects('  \t\n', {}), true);
  });
});
