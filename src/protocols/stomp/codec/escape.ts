// Header value escaping (STOMP 1.2 "Value Encoding"; 1.1 has the same rules without `\r`;
// 1.0 has no escaping at all).
//
//   \r  carriage return (1.2 only)    \n  line feed
//   \c  colon                          \\  backslash
//
// Any other escape is a fatal protocol error.
import type { StompVersion } from './frame.js';
import { malformed } from './errors.js';

const needsEscape = /[\\\r\n:]/;

export function escapeHeader(value: string, version: StompVersion): string {
  if (version === '1.0') {
    // 1.0 has no way to carry a line break in a header; a raw one would end the header.
    return /[\r\n]/.test(value) ? value.replace(/[\r\n]/g, ' ') : value;
  }
  if (!needsEscape.test(value)) return value;
  let out = '';
  for (const char of value) {
    if (char === '\\') out += '\\\\';
    else if (char === '\n') out += '\\n';
    else if (char === ':') out += '\\c';
    else if (char === '\r') out += version === '1.2' ? '\\r' : ' ';
    else out += char;
  }
  return out;
}

export function unescapeHeader(value: string, version: StompVersion): string {
  if (version === '1.0' || !value.includes('\\')) return value;
  let out = '';
  for (let index = 0; index < value.length; index++) {
    const char = value[index];
    if (char !== '\\') {
      out += char;
      continue;
    }
    const next = value[++index];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else if (next === 'c') out += ':';
    else if (next === 'r' && version === '1.2') out += '\r';
    else throw malformed(`undefined escape sequence '\\${next ?? ''}' in a header`);
  }
  return out;
}
