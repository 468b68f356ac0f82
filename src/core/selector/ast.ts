// The syntax tree of a message selector, as the parser builds it and the compiler and the
// reference evaluator (in tests) walk it. Every node keeps the position of its first
// character for error messages.

/** A selector value: SQL NULL, which doubles as the logical UNKNOWN, is `null`. */
export type SelectorValue = string | number | boolean | null;

/**
 * What the parser knows of a node's type before any message is seen. `any` is an
 * identifier (a header's type is known only at evaluation). Numbers are split into
 * `integer` (exact) and `float` (approximate) so that `/` can follow Java's promotion
 * where the types are known: see evaluator.ts.
 */
export type StaticType = 'boolean' | 'string' | 'integer' | 'float' | 'null' | 'any';

export type ArithmeticOperator = '+' | '-' | '*' | '/';
export type ComparisonOperator = '=' | '<>' | '<' | '>' | '<=' | '>=';

export type SelectorNode =
  | {
      readonly kind: 'literal';
      readonly value: SelectorValue;
      readonly type: StaticType;
      readonly position: number;
    }
  | { readonly kind: 'identifier'; readonly name: string; readonly position: number }
  | {
      readonly kind: 'unary';
      readonly operator: '+' | '-';
      readonly operand: SelectorNode;
      readonly type: StaticType;
      readonly position: number;
    }
  | {
      readonly kind: 'arithmetic';
      readonly operator: ArithmeticOperator;
      readonly left: SelectorNode;
      readonly right: SelectorNode;
      readonly type: StaticType;
      readonly position: number;
    }
  | {
      readonly kind: 'comparison';
      readonly operator: ComparisonOperator;
      readonly left: SelectorNode;
      readonly right: SelectorNode;
      readonly position: number;
    }
  | {
      readonly kind: 'between';
      readonly negated: boolean;
      readonly operand: SelectorNode;
      readonly low: SelectorNode;
      readonly high: SelectorNode;
      readonly position: number;
    }
  | {
      readonly kind: 'in';
      readonly negated: boolean;
      readonly operand: SelectorNode;
      readonly values: readonly (string | number)[];
      readonly position: number;
    }
  | {
      readonly kind: 'like';
      readonly negated: boolean;
      readonly operand: SelectorNode;
      readonly pattern: string;
      readonly escape: string | undefined;
      readonly position: number;
    }
  | {
      readonly kind: 'isNull';
      readonly negated: boolean;
      readonly operand: SelectorNode;
      readonly position: number;
    }
  | { readonly kind: 'not'; readonly operand: SelectorNode; readonly position: number }
  | {
      readonly kind: 'and' | 'or';
      readonly left: SelectorNode;
      readonly right: SelectorNode;
      readonly position: number;
    };

/** The static type of any node. */
export function staticTypeOf(node: SelectorNode): StaticType {
  switch (node.kind) {
    case 'literal':
    case 'unary':
    case 'arithmetic':
      return node.type;
    case 'identifier':
      return 'any';
    case 'comparison':
    case 'between':
    case 'in':
    case 'like':
    case 'isNull':
    case 'not':
    case 'and':
    case 'or':
      return 'boolean';
  }
}
