// Compiles a selector's syntax tree once into a tree of closures, so evaluating it against a
// message is a few function calls with no tree walking, parsing or allocation.
//
// Semantics (JMS 2.0 §3.8.1.1), with `null` standing for both SQL NULL and UNKNOWN:
// - An identifier with no value is NULL. Arithmetic or a comparison with a NULL operand is
//   NULL (unknown); a message is selected only when the selector is TRUE.
// - Three-valued logic: FALSE AND x is FALSE, TRUE OR x is TRUE, NOT UNKNOWN is UNKNOWN,
//   otherwise an UNKNOWN operand makes AND and OR UNKNOWN.
// - Only like types compare: numbers with any of = <> < > <= >=, strings and booleans with
//   = and <> only. Comparing unlike types, or ordering strings or booleans, is FALSE (not
//   UNKNOWN), as JMS says of unlike types.
// - Arithmetic needs numbers: a non-numeric operand makes the result NULL. Numbers are
//   IEEE doubles (exact values up to 2^53). `/` follows Java's promotion where the types
//   are known: when neither side is an approximate literal (or an expression over one) and
//   both values are integers, it divides as Java's long division does (truncating toward
//   zero), and integer division by zero is NULL; otherwise it is floating-point division.
//   A header number with an integral value counts as an integer.
// - A non-boolean value used as a condition (a header `flag` holding 'yes') is FALSE.
// - `a BETWEEN b AND c` is `a >= b AND a <= c`; NOT BETWEEN is `a < b OR a > c`.
// - `a IN (v1, …)` is `a = v1 OR …`; it is UNKNOWN when a is NULL, and NOT IN negates it.
// - `a LIKE p` is UNKNOWN when a is NULL, FALSE when a is not a string; NOT LIKE negates.
// - `a IS NULL` is TRUE exactly when a is NULL (absent, a Buffer, or an arithmetic NULL).

import { unreachable } from '../../common/assert.js';
import type { Message } from '../api.js';
import type { SelectorNode, SelectorValue } from './ast.js';
import { fieldReader } from './identifiers.js';
import { likeToRegExp } from './like-pattern.js';

export type Evaluate = (message: Message) => SelectorValue;

/** Boolean-context truth: TRUE, FALSE or UNKNOWN (null). A non-boolean is FALSE. */
function truth(value: SelectorValue): boolean | null {
  if (value === null) return null;
  return value === true;
}

export function compileNode(node: SelectorNode): Evaluate {
  switch (node.kind) {
    case 'literal': {
      const value = node.value;
      return () => value;
    }
    case 'identifier':
      return fieldReader(node.name);
    case 'unary': {
      const operand = compileNode(node.operand);
      if (node.operator === '+') {
        return (message) => {
          const value = operand(message);
          return typeof value === 'number' ? value : null;
        };
      }
      return (message) => {
        const value = operand(message);
        return typeof value === 'number' ? -value : null;
      };
    }
    case 'arithmetic':
      return compileArithmetic(node);
    case 'comparison':
      return compileComparison(node.operator, compileNode(node.left), compileNode(node.right));
    case 'between': {
      const operand = compileNode(node.operand);
      const low = compileNode(node.low);
      const high = compileNode(node.high);
      const negated = node.negated;
      return (message) => {
        const value = operand(message);
        const lowValue = low(message);
        const highValue = high(message);
        // By definition, not by negating each half: a type mismatch is FALSE either way.
        if (negated) return or(order(value, lowValue, '<'), order(value, highValue, '>'));
        return and(order(value, lowValue, '>='), order(value, highValue, '<='));
      };
    }
    case 'in': {
      const operand = compileNode(node.operand);
      const values: ReadonlySet<string | number> = new Set(node.values);
      const negated = node.negated;
      return (message) => {
        const value = operand(message);
        if (value === null) return null;
        if (typeof value !== 'string' && typeof value !== 'number') return negated;
        return values.has(value) !== negated;
      };
    }
    case 'like': {
      const operand = compileNode(node.operand);
      const pattern = likeToRegExp(node.pattern, node.escape);
      const negated = node.negated;
      return (message) => {
        const value = operand(message);
        if (value === null) return null;
        if (typeof value !== 'string') return negated;
        return pattern.test(value) !== negated;
      };
    }
    case 'isNull': {
      const operand = compileNode(node.operand);
      const negated = node.negated;
      return (message) => (operand(message) === null) !== negated;
    }
    case 'not': {
      const operand = compileNode(node.operand);
      return (message) => not(truth(operand(message)));
    }
    case 'and': {
      const left = compileNode(node.left);
      const right = compileNode(node.right);
      return (message) => {
        const leftTruth = truth(left(message));
        if (leftTruth === false) return false;
        return and(leftTruth, truth(right(message)));
      };
    }
    case 'or': {
      const left = compileNode(node.left);
      const right = compileNode(node.right);
      return (message) => {
        const leftTruth = truth(left(message));
        if (leftTruth === true) return true;
        return or(leftTruth, truth(right(message)));
      };
    }
    default:
      return unreachable(node);
  }
}

function not(value: boolean | null): boolean | null {
  return value === null ? null : !value;
}

function and(left: boolean | null, right: boolean | null): boolean | null {
  if (left === false || right === false) return false;
  if (left === null || right === null) return null;
  return true;
}

function or(left: boolean | null, right: boolean | null): boolean | null {
  if (left === true || right === true) return true;
  if (left === null || right === null) return null;
  return false;
}

type Ordering = '<' | '>' | '<=' | '>=';

function order(left: SelectorValue, right: SelectorValue, operator: Ordering): boolean | null {
  if (left === null || right === null) return null;
  if (typeof left !== 'number' || typeof right !== 'number') return false;
  switch (operator) {
    case '<':
      return left < right;
    case '>':
      return left > right;
    case '<=':
      return left <= right;
    case '>=':
      return left >= right;
  }
}

function compileComparison(operator: '=' | '<>' | Ordering, left: Evaluate, right: Evaluate): Evaluate {
  if (operator === '=' || operator === '<>') {
    const equal = operator === '=';
    return (message) => {
      const leftValue = left(message);
      const rightValue = right(message);
      if (leftValue === null || rightValue === null) return null;
      if (typeof leftValue !== typeof rightValue) return false;
      return (leftValue === rightValue) === equal;
    };
  }
  return (message) => order(left(message), right(message), operator);
}

function compileArithmetic(node: Extract<SelectorNode, { kind: 'arithmetic' }>): Evaluate {
  const left = compileNode(node.left);
  const right = compileNode(node.right);
  switch (node.operator) {
    case '+':
      return (message) => {
        const a = left(message);
        const b = right(message);
        return typeof a === 'number' && typeof b === 'number' ? a + b : null;
      };
    case '-':
      return (message) => {
        const a = left(message);
        const b = right(message);
        return typeof a === 'number' && typeof b === 'number' ? a - b : null;
      };
    case '*':
      return (message) => {
        const a = left(message);
        const b = right(message);
        return typeof a === 'number' && typeof b === 'number' ? a * b : null;
      };
    case '/': {
      if (node.type === 'float') {
        return (message) => {
          const a = left(message);
          const b = right(message);
          return typeof a === 'number' && typeof b === 'number' ? a / b : null;
        };
      }
      return (message) => {
        const a = left(message);
        const b = right(message);
        if (typeof a !== 'number' || typeof b !== 'number') return null;
        if (Number.isInteger(a) && Number.isInteger(b)) return b === 0 ? null : Math.trunc(a / b);
        return a / b;
      };
    }
  }
}
