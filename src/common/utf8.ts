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

/** Bytes a RecentString remembers; longer strings are decoded every time. */
const recentStringBytesMax = 256;

/**
 * Decodes UTF-8 strings that usually repeat from one call to the next, such as the subjects
 * of a run of messages: while the bytes are those of the last string decoded, that same
 * string is returned again, without decoding or allocating.
 */
export class RecentString {
  readonly #bytes = Buffer.allocUnsafe(recentStringBytesMax);
  #length = -1;
  #text = '';

  decode(buffer: Buffer, start: number, end: number): string {
    const length = end - start;
    const remembered = this.#bytes;
    if (length === this.#length) {
      let index = 0;
      while (index < length && buffer[start + index] === remembered[index]) index++;
      if (index === length) return this.#text;
    }
    const text = buffer.toString('utf8', start, end);
    if (length <= recentStringBytesMax) {
      buffer.copy(remembered, 0, start, end);
      this.#length = length;
      this.#text = text;
    }
    return text;
  }
}
