// UTF-8 length and writing for the short strings of every message (subjects, ids, header
// names), on the hot paths of the message codecs.
//
// Buffer.byteLength and Buffer#write cross into C++ on every call, which costs more than
// the work for a string of a few dozen characters. Short strings that are all ASCII (the
// usual subject or id) are measured and written here in JavaScript, one byte per
// character; anything longer or with a non-ASCII character goes to Buffer as before, so the
// bytes are exactly Buffer's UTF-8 either way.

/** Strings up to this many characters are tried in JavaScript first. */
const shortStringLengthMax = 64;

/** The UTF-8 byte length of `text` (what Buffer.byteLength(text, 'utf8') returns). */
export function utf8ByteLength(text: string): number {
  const length = text.length;
  if (length > shortStringLengthMax) return Buffer.byteLength(text, 'utf8');
  for (let index = 0; index < length; index++) {
    if (text.charCodeAt(index) >= 0x80) return Buffer.byteLength(text, 'utf8');
  }
  return length;
}

/**
 * Writes `text` as UTF-8 at `target[position…]` and returns the bytes written. The caller
 * has made room for all of it (measured with utf8ByteLength, or 3 bytes per character).
 */
export function writeUtf8(target: Buffer, position: number, text: string): number {
  const length = text.length;
  if (length <= shortStringLengthMax) {
    let index = 0;
    for (; index < length; index++) {
      const code = text.charCodeAt(index);
      if (code >= 0x80) break;
      target[position + index] = code;
    }
    if (index === length) return length;
  }
  return length === 0 ? 0 : target.write(text, position, 'utf8');
}
