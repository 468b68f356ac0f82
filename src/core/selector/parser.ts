// The parser of message selectors: tokens in, a checked syntax tree out (pure).
//
// Grammar, loosest binding first (JMS 2.0 §3.8.1.1: NOT before AND before OR; comparison;
// unary signs before * / before binary + -):
//
//   selector       := orExpression END
//   orExpression   := andExpression ( OR andExpression )*
//   andExpression  := notExpression ( AND notExpression )*
//   notExpression  := NOT notExpression | predicate
//   predicate      := sum [ ( = | <> | < | > | <= | >= ) sum
//                         | [NOT] BETWEEN sum AND sum
//                         | [NOT] IN ( literal ( , literal )* )
//                         | [NOT] LIKE string [ ESCAPE string ]
//                         | IS [NOT] NULL ]
//   sum            := product ( ( + | - ) product )*
//   product        := unary ( ( * | / ) unary )*
//   unary          := ( + | - ) unary | primary
//   primary        := literal | identifier | ( orExpression )
//
// A comparison is not associative: `a = b = c` is an error, `(a = b) = c` is not.
// Types are checked where the text alone decides them (JMS: strings and booleans compare
// only with = and <>; arithmetic is on numbers; a condition is boolean); identifiers are
// checked when a message is evaluated, where a mismatch gives false or unknown (evaluator.ts).

import { Limits } from '../../common/limits.js';
import type { ComparisonOperator, SelectorNode, StaticType } from './ast.js';
import { staticTypeOf } from './ast.js';
import type { Keyword, Operator, Token } from './lexer.js';
import { tokenize } from './lexer.js';
import { SelectorSyntaxError } from './selector-error.js';

const comparisonOperators: ReadonlySet<string> = new Set(['=', '<>', '<', '>', '<=', '>=']);

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the selector';
    case 'string':
      return `string '${token.value.replaceAll("'", "''")}'`;
    case 'number':
      return `number ${token.value}`;
    case 'identifier':
      return `identifier ${token.value}`;
    case 'keyword':
      return token.value;
    case 'operator':
      return `'${token.value}'`;
  }
}

function isNumeric(type: StaticType): boolean {
  return type === 'integer' || type === 'float' || type === 'any' || type === 'null';
}

function isCondition(type: StaticType): boolean {
  return type === 'boolean' || type === 'any' || type === 'null';
}

function typeName(type: StaticType): string {
  return type === 'integer' || type === 'float' ? 'a number' : type === 'null' ? 'NULL' : `a ${type}`;
}

/** Parses selector text; an empty (or all-whitespace) selector gives undefined: select all. */
export function parseSelector(text: string): SelectorNode | undefined {
  if (text.length > Limits.selectorLengthMax) {
    throw new SelectorSyntaxError(
      Limits.selectorLengthMax,
      `a selector is at most ${Limits.selectorLengthMax} characters, this one has ${text.length}`,
    );
  }
  const tokens = tokenize(text);
  if (tokens.length === 1) return undefined;
  return new Parser(tokens).parse();
}

class Parser {
  readonly #tokens: Token[];
  #index = 0;
  #depth = 0;

  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  parse(): SelectorNode {
    const node = this.#condition(this.#or());
    const token = this.#peek();
    if (token.kind !== 'end') this.#fail(token, `expected AND, OR or the end, found ${describe(token)}`);
    return node;
  }

  #peek(): Token {
    return this.#tokens[this.#index]!;
  }

  #next(): Token {
    const token = this.#tokens[this.#index]!;
    if (token.kind !== 'end') this.#index++;
    return token;
  }

  #isKeyword(keyword: Keyword): boolean {
    const token = this.#peek();
    return token.kind === 'keyword' && token.value === keyword;
  }

  #isOperator(operator: Operator): boolean {
    const token = this.#peek();
    return token.kind === 'operator' && token.value === operator;
  }

  #expectKeyword(keyword: Keyword): void {
    const token = this.#next();
    if (token.kind !== 'keyword' || token.value !== keyword) {
      this.#fail(token, `expected ${keyword}, found ${describe(token)}`);
    }
  }

  #expectOperator(operator: Operator): void {
    const token = this.#next();
    if (token.kind !== 'operator' || token.value !== operator) {
      this.#fail(token, `expected '${operator}', found ${describe(token)}`);
    }
  }

  #fail(token: Token | SelectorNode, reason: string): never {
    throw new SelectorSyntaxError(token.position, reason);
  }

  #enter(token: Token): void {
    this.#depth++;
    if (this.#depth > Limits.selectorDepthMax) {
      this.#fail(token, `the selector nests deeper than ${Limits.selectorDepthMax} levels`);
    }
  }

  #condition(node: SelectorNode): SelectorNode {
    const type = staticTypeOf(node);
    if (!isCondition(type)) this.#fail(node, `expected a condition, found ${typeName(type)}`);
    return node;
  }

  #number(node: SelectorNode): SelectorNode {
    const type = staticTypeOf(node);
    if (!isNumeric(type)) this.#fail(node, `expected a number, found ${typeName(type)}`);
    return node;
  }

  #or(): SelectorNode {
    let left = this.#and();
    while (this.#isKeyword('OR')) {
      this.#next();
      const right = this.#condition(this.#and());
      left = { kind: 'or', left: this.#condition(left), right, position: left.position };
    }
    return left;
  }

  #and(): SelectorNode {
    let left = this.#not();
    while (this.#isKeyword('AND')) {
      this.#next();
      const right = this.#condition(this.#not());
      left = { kind: 'and', left: this.#condition(left), right, position: left.position };
    }
    return left;
  }

  #not(): SelectorNode {
    if (this.#isKeyword('NOT')) {
      const token = this.#next();
      this.#enter(token);
      const operand = this.#condition(this.#not());
      this.#depth--;
      return { kind: 'not', operand, position: token.position };
    }
    return this.#predicate();
  }

  #predicate(): SelectorNode {
    const left = this.#sum();
    const token = this.#peek();
    if (token.kind === 'operator' && comparisonOperators.has(token.value)) {
      this.#next();
      const operator = token.value as ComparisonOperator;
      const right = this.#sum();
      if (operator !== '=' && operator !== '<>') {
        for (const side of [left, right]) {
          const type = staticTypeOf(side);
          if (type === 'string' || type === 'boolean') {
            this.#fail(side, `strings and booleans compare only with = and <>, not ${operator}`);
          }
        }
      }
      return { kind: 'comparison', operator, left, right, position: left.position };
    }
    let negated = false;
    if (this.#isKeyword('NOT')) {
      this.#next();
      negated = true;
      const after = this.#peek();
      if (
        after.kind !== 'keyword' ||
        (after.value !== 'BETWEEN' && after.value !== 'IN' && after.value !== 'LIKE')
      ) {
        this.#fail(after, `expected BETWEEN, IN or LIKE after NOT, found ${describe(after)}`);
      }
    }
    if (this.#isKeyword('BETWEEN')) {
      this.#next();
      this.#number(left);
      const low = this.#number(this.#sum());
      this.#expectKeyword('AND');
      const high = this.#number(this.#sum());
      return { kind: 'between', negated, operand: left, low, high, position: left.position };
    }
    if (this.#isKeyword('IN')) {
      this.#next();
      const type = staticTypeOf(left);
      if (type === 'boolean') this.#fail(left, 'IN needs a string or a number on its left');
      this.#expectOperator('(');
      const values: (string | number)[] = [this.#inValue()];
      while (this.#isOperator(',')) {
        this.#next();
        values.push(this.#inValue());
      }
      this.#expectOperator(')');
      return { kind: 'in', negated, operand: left, values, position: left.position };
    }
    if (this.#isKeyword('LIKE')) {
      this.#next();
      const type = staticTypeOf(left);
      if (type !== 'string' && type !== 'any' && type !== 'null') {
        this.#fail(left, `LIKE needs a string on its left, found ${typeName(type)}`);
      }
      const patternToken = this.#next();
      if (patternToken.kind !== 'string') {
        this.#fail(patternToken, `LIKE needs a string literal pattern, found ${describe(patternToken)}`);
      }
      let escape: string | undefined;
      if (this.#isKeyword('ESCAPE')) {
        this.#next();
        const escapeToken = this.#next();
        if (escapeToken.kind !== 'string' || escapeToken.value.length !== 1) {
          this.#fail(
            escapeToken,
            `ESCAPE needs a one-character string literal, found ${describe(escapeToken)}`,
          );
        }
        escape = escapeToken.value;
        checkPattern(patternToken.value, escape, patternToken.position);
      }
      return {
        kind: 'like',
        negated,
        operand: left,
        pattern: patternToken.value,
        escape,
        position: left.position,
      };
    }
    if (this.#isKeyword('IS')) {
      this.#next();
      let isNegated = false;
      if (this.#isKeyword('NOT')) {
        this.#next();
        isNegated = true;
      }
      this.#expectKeyword('NULL');
      return { kind: 'isNull', negated: isNegated, operand: left, position: left.position };
    }
    return left;
  }

  #inValue(): string | number {
    let sign: number | undefined;
    const first = this.#peek();
    if (first.kind === 'operator' && (first.value === '-' || first.value === '+')) {
      this.#next();
      sign = first.value === '-' ? -1 : 1;
    }
    const token = this.#next();
    if (token.kind === 'string' && sign === undefined) return token.value;
    if (token.kind === 'number') return (sign ?? 1) * token.value;
    return this.#fail(token, `IN lists hold string or number literals, found ${describe(token)}`);
  }

  #sum(): SelectorNode {
    let left = this.#product();
    for (;;) {
      const token = this.#peek();
      if (token.kind !== 'operator' || (token.value !== '+' && token.value !== '-')) return left;
      this.#next();
      const right = this.#number(this.#product());
      this.#number(left);
      left = {
        kind: 'arithmetic',
        operator: token.value,
        left,
        right,
        type: arithmeticType(left, right),
        position: left.position,
      };
    }
  }

  #product(): SelectorNode {
    let left = this.#unary();
    for (;;) {
      const token = this.#peek();
      if (token.kind !== 'operator' || (token.value !== '*' && token.value !== '/')) return left;
      this.#next();
      const right = this.#number(this.#unary());
      this.#number(left);
      left = {
        kind: 'arithmetic',
        operator: token.value,
        left,
        right,
        type: arithmeticType(left, right),
        position: left.position,
      };
    }
  }

  #unary(): SelectorNode {
    const token = this.#peek();
    if (token.kind === 'operator' && (token.value === '+' || token.value === '-')) {
      this.#next();
      this.#enter(token);
      const operand = this.#number(this.#unary());
      this.#depth--;
      const operandType = staticTypeOf(operand);
      const type = operandType === 'null' ? 'any' : operandType;
      return { kind: 'unary', operator: token.value, operand, type, position: token.position };
    }
    return this.#primary();
  }

  #primary(): SelectorNode {
    const token = this.#next();
    switch (token.kind) {
      case 'string':
        return { kind: 'literal', value: token.value, type: 'string', position: token.position };
      case 'number':
        return {
          kind: 'literal',
          value: token.value,
          type: token.exact ? 'integer' : 'float',
          position: token.position,
        };
      case 'identifier':
        return { kind: 'identifier', name: token.value, position: token.position };
      case 'keyword':
        if (token.value === 'TRUE' || token.value === 'FALSE') {
          return {
            kind: 'literal',
            value: token.value === 'TRUE',
            type: 'boolean',
            position: token.position,
          };
        }
        if (token.value === 'NULL')
          return { kind: 'literal', value: null, type: 'null', position: token.position };
        return this.#fail(token, `expected an expression, found ${describe(token)}`);
      case 'operator':
        if (token.value === '(') {
          this.#enter(token);
          const inner = this.#or();
          this.#depth--;
          this.#expectOperator(')');
          return inner;
        }
        return this.#fail(token, `expected an expression, found ${describe(token)}`);
      case 'end':
        return this.#fail(token, `expected an expression, found ${describe(token)}`);
    }
  }
}

function arithmeticType(left: SelectorNode, right: SelectorNode): StaticType {
  const leftType = staticTypeOf(left);
  const rightType = staticTypeOf(right);
  if (leftType === 'float' || rightType === 'float') return 'float';
  if (leftType === 'integer' && rightType === 'integer') return 'integer';
  return 'any';
}

/** An escape character must be followed by `%`, `_` or itself. */
function checkPattern(pattern: string, escape: string, position: number): void {
  for (let index = 0; index < pattern.length; index++) {
    if (pattern[index] !== escape) continue;
    const next = pattern[index + 1];
    if (next !== '%' && next !== '_' && next !== escape) {
      // +1 for the opening quote; quotes doubled inside the literal shift this at most slightly.
      throw new SelectorSyntaxError(
        position + 1 + index,
        `escape character ${JSON.stringify(escape)} must be followed by %, _ or itself`,
      );
    }
    index++;
  }
}
