// The lexer of message selectors: the JMS SQL-92 subset (JMS 2.0 §3.8.1.1). Pure: text in,
// tokens out, each with the 0-based position of its first character so that every error can
// name a column.
//
// Tokens:
// - string literal: single quotes, a quote inside doubled (`'it''s'`);
// - exact numeric literal: digits (`57`); approximate: digits with a decimal point and/or an
//   exponent (`7.`, `.5`, `57.9E2`, `7E3`); signs are unary operators, not part of the literal;
// - identifier: a Java identifier (a letter, `_` or `$`, then letters, digits, `_`, `$`),
//   case-sensitive; the keywords NULL TRUE FALSE NOT AND OR BETWEEN LIKE IN IS ESCAPE are
//   case-insensitive and reserved;
// - operators: `= <> < > <= >= + - * / ( ) ,`;
// - whitespace: space, tab, form feed, line terminators.

import { SelectorSyntaxError } from './selector-error.js';

export const keywords = [
  'NULL',
  'TRUE',
  'FALSE',
  'NOT',
  'AND',
  'OR',
  'BETWEEN',
  'LIKE',
  'IN',
  'IS',
  'ESCAPE',
] as const;
export type Keyword = (typeof keywords)[number];

const keywordSet: ReadonlySet<string> = new Set(keywords);

export const operators = ['=', '<>', '<', '>', '<=', '>=', '+', '-', '*', '/', '(', ')', ','] as const;
export type Operator = (typeof operators)[number];

export type Token =
  | { readonly kind: 'string'; readonly value: string; readonly position: number }
  | { readonly kind: 'number'; readonly value: number; readonly exact: boolean; readonly position: number }
  | { readonly kind: 'identifier'; readonly value: string; readonly position: number }
  | { readonly kind: 'keyword'; readonly value: Keyword; readonly position: number }
  | { readonly kind: 'operator'; readonly value: Operator; readonly position: number }
  | { readonly kind: 'end'; readonly position: number };

const identifierStart = /[\p{L}\p{Nl}_$]/u;
const identifierPart = /[\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}_$]/u;

function isDigit(char: string | undefined): boolean {
  return char !== undefined && char >= '0' && char <= '9';
}

function isWhitespace(char: string): boolean {
  return char === ' ' || char === '\t' || char === '\f' || char === '\n' || char === '\r';
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  while (position < text.length) {
    const char = text[position]!;
    if (isWhitespace(char)) {
      position++;
      continue;
    }
    const start = position;
    if (char === "'") {
      let value = '';
      position++;
      for (;;) {
        const next = text.indexOf("'", position);
        if (next < 0) throw new SelectorSyntaxError(start, 'unterminated string literal');
        value += text.slice(position, next);
        if (text[next + 1] === "'") {
          value += "'";
          position = next + 2;
        } else {
          position = next + 1;
          break;
        }
      }
      tokens.push({ kind: 'string', value, position: start });
      continue;
    }
    if (isDigit(char) || (char === '.' && isDigit(text[position + 1]))) {
      let exact = true;
      while (isDigit(text[position])) position++;
      if (text[position] === '.') {
        exact = false;
        position++;
        while (isDigit(text[position])) position++;
      }
      if (text[position] === 'e' || text[position] === 'E') {
        const exponentStart = position;
        position++;
        if (text[position] === '+' || text[position] === '-') position++;
        if (!isDigit(text[position])) {
          throw new SelectorSyntaxError(exponentStart, 'an exponent needs digits');
        }
        while (isDigit(text[position])) position++;
        exact = false;
      }
      const next = text[position];
      if (next !== undefined && (identifierPart.test(next) || next === '.')) {
        throw new SelectorSyntaxError(position, `unexpected ${JSON.stringify(next)} after a number`);
      }
      const literal = text.slice(start, position);
      const value = Number(literal);
      if (exact && !Number.isSafeInteger(value)) {
        throw new SelectorSyntaxError(start, `exact numeric literal ${literal} is out of range (±2^53-1)`);
      }
      if (!Number.isFinite(value)) {
        throw new SelectorSyntaxError(start, `numeric literal ${literal} is out of range`);
      }
      tokens.push({ kind: 'number', value, exact, position: start });
      continue;
    }
    if (identifierStart.test(char)) {
      position++;
      while (position < text.length && identifierPart.test(text[position]!)) position++;
      const word = text.slice(start, position);
      const upper = word.toUpperCase();
      if (keywordSet.has(upper)) tokens.push({ kind: 'keyword', value: upper as Keyword, position: start });
      else tokens.push({ kind: 'identifier', value: word, position: start });
      continue;
    }
    const two = text.slice(position, position + 2);
    if (two === '<>' || two === '<=' || two === '>=') {
      tokens.push({ kind: 'operator', value: two, position: start });
      position += 2;
      continue;
    }
    if ('=<>+-*/(),'.includes(char)) {
      tokens.push({ kind: 'operator', value: char as Operator, position: start });
      position++;
      continue;
    }
    throw new SelectorSyntaxError(start, `unexpected character ${JSON.stringify(char)}`);
  }
  tokens.push({ kind: 'end', position: text.length });
  return tokens;
}
