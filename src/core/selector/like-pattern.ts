// LIKE patterns (JMS 2.0 §3.8.1.1): `_` stands for any one character, `%` for any sequence
// of characters (none included), an escape character makes the next `_`, `%` or itself
// literal; everything else matches itself, case-sensitively. A "character" is one UTF-16
// code unit, as a Java char.
//
// A pattern compiles once to an anchored regular expression; the pattern is a literal in the
// selector, so a message can never make it costly to build. The expression has no nested
// quantifiers (`%` runs are merged), so matching is linear in practice.

export function likeToRegExp(pattern: string, escape: string | undefined): RegExp {
  let source = '^';
  let lastWasAny = false;
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index]!;
    if (escape !== undefined && char === escape) {
      index++;
      const literal = pattern[index] ?? '';
      source += escapeRegExp(literal);
      lastWasAny = false;
    } else if (char === '%') {
      if (!lastWasAny) source += '[\\s\\S]*';
      lastWasAny = true;
    } else if (char === '_') {
      source += '[\\s\\S]';
      lastWasAny = false;
    } else {
      source += escapeRegExp(char);
      lastWasAny = false;
    }
  }
  return new RegExp(source + '$');
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}
