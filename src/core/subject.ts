// Subjects and filters (DESIGN.md §1).
//
// A subject is the address of a message: dot-separated, non-empty tokens such as
// `orders.eu.created`. A filter is a subject that may also contain wildcards, each a whole
// token: `*` matches exactly one token, `>` matches one or more trailing tokens and may only
// be the last token. So `orders.*` matches `orders.eu` but not `orders` or `orders.eu.x`, and
// `orders.>` matches `orders.eu` and `orders.eu.x` but not `orders`.
//
// Rules a subject and a filter must both follow, each named in the error it throws:
// - at most `Limits.subjectBytesMax` UTF-8 bytes and `Limits.subjectTokensMax` tokens;
// - no empty token (no leading, trailing or doubled `.`);
// - no whitespace or control characters anywhere, and well-formed Unicode (no lone
//   surrogates, which could not survive the round trip through UTF-8 on disk);
// - `*` and `>` are wildcards only: a subject may not contain them at all, and in a filter
//   they must stand alone as a token (`a.b*` is rejected rather than read literally).
//
// Subjects whose first token starts with `$` (`$DLQ.orders`, `$SYS.x`) are valid, but they
// are system subjects, the namespace every internal subject of the broker lives in (dead
// letters `$DLQ.`, inboxes `$INBOX.`, temporary queues `$TMPQ.`, the MQTT adapter's state
// `$MQTT.`): a filter whose FIRST token is a wildcard (`>`, `*.x`) does not match
// them. Only a filter that names the `$` token literally does (`$DLQ.>`). This is MQTT's
// rule [MQTT-4.7.2-1] ("the Server MUST NOT match Topic Filters starting with a wildcard
// character with Topic Names beginning with a $ character"), applied to every protocol so
// that a catch-all subscription never swallows dead letters or system events.

import { ErrorCode, WeirError } from '../common/errors.js';
import { Limits } from '../common/limits.js';

const dot = 0x2e;
const star = 0x2a;
const greaterThan = 0x3e;
const dollar = 0x24;

/** Throws WEIR_INVALID_SUBJECT unless `subject` is a valid subject (no wildcards). */
export function validateSubject(subject: string): void {
  // A run of publishes mostly repeats one subject, often as the very same string (the
  // adapters decode repeating subjects once: common/utf8.ts RecentString).
  if (subject === lastValidSubject) return;
  check(subject, false);
  lastValidSubject = subject;
}

let lastValidSubject: string | undefined;

/** Throws WEIR_INVALID_SUBJECT unless `filter` is a valid filter (wildcards allowed). */
export function validateFilter(filter: string): void {
  check(filter, true);
}

/** True when `filter` contains `*` or `>`; assumes a valid filter. */
export function filterHasWildcards(filter: string): boolean {
  return filter.includes('*') || filter.includes('>');
}

/**
 * The reference matcher: true when `filter` matches `subject`. Both are assumed valid.
 * Simple rather than fast; the subject trie is the fast path and is tested against this.
 */
export function subjectMatches(filter: string, subject: string): boolean {
  const filterTokens = filter.split('.');
  const subjectTokens = subject.split('.');
  if (isWildcard(filterTokens[0]) && isSystemToken(subjectTokens[0])) return false; // [MQTT-4.7.2-1]
  for (let index = 0; index < filterTokens.length; index++) {
    const token = filterTokens[index];
    if (token === '>') return subjectTokens.length > index;
    if (index >= subjectTokens.length) return false;
    if (token !== '*' && token !== subjectTokens[index]) return false;
  }
  return filterTokens.length === subjectTokens.length;
}

/**
 * True when some subject matches both filters (both assumed valid). Streams use it to
 * refuse capturing subjects another stream already captures.
 */
export function filtersOverlap(first: string, second: string): boolean {
  const firstTokens = first.split('.');
  const secondTokens = second.split('.');
  // A leading wildcard overlaps a literal first token only if that token is not a system one.
  const firstHead = firstTokens[0];
  const secondHead = secondTokens[0];
  if (isWildcard(firstHead) && !isWildcard(secondHead) && isSystemToken(secondHead)) return false;
  if (isWildcard(secondHead) && !isWildcard(firstHead) && isSystemToken(firstHead)) return false;
  const length = Math.min(firstTokens.length, secondTokens.length);
  for (let index = 0; index < length; index++) {
    const a = firstTokens[index];
    const b = secondTokens[index];
    if (a === '>' || b === '>') return true;
    if (a !== '*' && b !== '*' && a !== b) return false;
  }
  // Without a `>` before the shorter one ends, a common subject needs equal token counts
  // (`a.>` and `a` do not overlap: `>` needs at least one token).
  return firstTokens.length === secondTokens.length;
}

function isWildcard(token: string | undefined): boolean {
  return token === '*' || token === '>';
}

function isSystemToken(token: string | undefined): boolean {
  return token !== undefined && token.charCodeAt(0) === dollar;
}

function check(text: string, isFilter: boolean): void {
  const what = isFilter ? 'filter' : 'subject';
  if (typeof text !== 'string') fail(`${what} must be a string, got ${typeof text}`);
  const length = text.length;
  if (length === 0) fail(`${what} is empty`);
  // UTF-8 takes at least one byte and at most three per UTF-16 code unit: measure only when
  // the bound is in doubt.
  if (
    length > Limits.subjectBytesMax ||
    (length * 3 > Limits.subjectBytesMax && byteLength(text) > Limits.subjectBytesMax)
  ) {
    fail(
      `${what} ${quote(text)} is ${byteLength(text)} bytes; the limit is ${Limits.subjectBytesMax} (subjectBytesMax)`,
    );
  }
  let tokens = 1;
  let tokenStart = 0;
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index);
    if (code === dot) {
      if (index === tokenStart) fail(`${what} ${quote(text)} has an empty token at character ${index}`);
      tokens++;
      tokenStart = index + 1;
      continue;
    }
    if (code === star || code === greaterThan) {
      const wildcard = String.fromCharCode(code);
      if (!isFilter) {
        fail(
          `subject ${quote(text)} contains the wildcard '${wildcard}'; wildcards are allowed only in filters`,
        );
      }
      const next = index + 1 < length ? text.charCodeAt(index + 1) : dot;
      if (index !== tokenStart || next !== dot) {
        fail(`filter ${quote(text)} uses '${wildcard}' inside a token; a wildcard must be a whole token`);
      }
      if (code === greaterThan && index + 1 !== length) {
        fail(`filter ${quote(text)} has '>' before its last token; '>' may only be the last token`);
      }
      continue;
    }
    if (code <= 0x20 || (code >= 0x7f && code <= 0xa0)) {
      fail(`${what} ${quote(text)} contains whitespace or a control character at character ${index}`);
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const low = index + 1 < length ? text.charCodeAt(index + 1) : 0;
      if (code >= 0xdc00 || low < 0xdc00 || low > 0xdfff) {
        fail(
          `${what} ${quote(text)} contains a lone surrogate at character ${index}; it must be valid Unicode`,
        );
      }
      index++;
      continue;
    }
    if (code > 0xa0 && isUnicodeSpace(code)) {
      fail(`${what} ${quote(text)} contains whitespace at character ${index}`);
    }
  }
  if (tokenStart === length) fail(`${what} ${quote(text)} ends with an empty token`);
  if (tokens > Limits.subjectTokensMax) {
    fail(
      `${what} ${quote(text)} has ${tokens} tokens; the limit is ${Limits.subjectTokensMax} (subjectTokensMax)`,
    );
  }
}

function isUnicodeSpace(code: number): boolean {
  return (
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Quotes a subject for an error message, shortened so that errors stay readable. */
function quote(text: string): string {
  const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return JSON.stringify(shown);
}

function fail(message: string): never {
  throw new WeirError(ErrorCode.InvalidSubject, message);
}
