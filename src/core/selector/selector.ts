// Message selectors: a consumer option that lets through only the messages whose headers and
// system fields satisfy an SQL-92 condition, the subset JMS defines (JMS 2.0 §3.8.1.1):
//
//   JMSPriority >= 7 AND region IN ('eu', 'uk') AND NOT (sku LIKE 'TEST\_%' ESCAPE '\')
//
// A selector is parsed and type-checked once (lexer.ts, parser.ts: a mistake is
// WEIR_INVALID_SELECTOR naming the column), then compiled into closures (evaluator.ts,
// which states the three-valued semantics); `matches` costs a few calls per message.
// Identifiers are described in identifiers.ts.

import type { Message } from '../api.js';
import { compileNode } from './evaluator.js';
import { parseSelector } from './parser.js';

export interface Selector {
  /** The text as given. */
  readonly text: string;
  /** True when the selector is TRUE for the message; FALSE and UNKNOWN do not select. */
  matches(message: Message): boolean;
}

const selectAll = (): boolean => true;

/** Compiles selector text; an empty selector selects every message. Throws SelectorSyntaxError. */
export function compileSelector(text: string): Selector {
  const tree = parseSelector(text);
  if (tree === undefined) return { text, matches: selectAll };
  const evaluate = compileNode(tree);
  return { text, matches: (message) => evaluate(message) === true };
}
