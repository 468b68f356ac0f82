// STOMP 1.2 frames for the load generator: SEND encoded once with a fixed-width receipt id
// patched in place, SUBSCRIBE/ACK/CONNECT encoded on demand, and a reader that splits a
// byte stream into frames (content-length bodies or NUL-terminated ones).

export type StompHeaders = readonly (readonly [string, string])[];

export interface StompFrame {
  readonly command: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

// STOMP 1.2: "Value Encoding". CONNECT and CONNECTED frames are not escaped.
function escapeHeader(text: string): string {
  return text.replace(/[\\\r\n:]/g, (character) => {
    switch (character) {
      case '\\':
        return '\\\\';
      case '\r':
        return '\\r';
      case '\n':
        return '\\n';
      default:
        return '\\c';
    }
  });
}

function unescapeHeader(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\(.)/g, (_match, character: string) => {
    switch (character) {
      case 'r':
        return '\r';
      case 'n':
        return '\n';
      case 'c':
        return ':';
      case '\\':
        return '\\';
      default:
        throw new RangeError(`undefined escape sequence \\${character} [STOMP 1.2: Value Encoding]`);
    }
  });
}

function escapes(command: string): boolean {
  return command !== 'CONNECT' && command !== 'CONNECTED' && command !== 'STOMP';
}

export function encodeFrame(command: string, headers: StompHeaders, body: Buffer = Buffer.alloc(0)): Buffer {
  const escape = escapes(command);
  const lines = [command];
  for (const [name, value] of headers) {
    lines.push(escape ? `${escapeHeader(name)}:${escapeHeader(value)}` : `${name}:${value}`);
  }
  if (body.length > 0) lines.push(`content-length:${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\n')}\n\n`, 'utf8'), body, Buffer.from([0])]);
}

export const receiptIdWidth = 8;

/**
 * A SEND encoded once. The generator copies `frame` for each message, writes the receipt
 * id (8 hex digits) at `receiptOffset` and stamps the payload at `payloadOffset`.
 */
export interface SendTemplate {
  readonly frame: Buffer;
  /** Undefined for a SEND without a receipt (fire and forget). */
  readonly receiptOffset: number | undefined;
  readonly payloadOffset: number;
}

export function encodeSendTemplate(
  destination: string,
  payload: Buffer,
  headers: StompHeaders,
  withReceipt = true,
): SendTemplate {
  const placeholder = '0'.repeat(receiptIdWidth);
  const receipt: StompHeaders = withReceipt ? [['receipt', placeholder]] : [];
  const frame = encodeFrame('SEND', [['destination', destination], ...headers, ...receipt], payload);
  const receiptOffset = withReceipt
    ? frame.indexOf(`\nreceipt:${placeholder}`) + '\nreceipt:'.length
    : undefined;
  const payloadOffset = frame.length - 1 - payload.length;
  return { frame, receiptOffset, payloadOffset };
}

const hexDigits = '0123456789abcdef';

/** Writes `id` as 8 lower-case hex digits: the receipt id of a patched SEND. */
export function writeReceiptId(target: Buffer, offset: number, id: number): void {
  let rest = id >>> 0;
  for (let index = receiptIdWidth - 1; index >= 0; index--) {
    target[offset + index] = hexDigits.charCodeAt(rest & 0x0f);
    rest >>>= 4;
  }
}

export function parseReceiptId(text: string): number {
  return Number.parseInt(text, 16);
}

/**
 * Splits a byte stream into frames. A body with content-length is taken by length (it may
 * hold NUL bytes); without it, up to the first NUL. End-of-line heart-beats between frames
 * are skipped.
 */
export class StompFrameReader {
  private pending: Buffer | undefined;

  read(chunk: Buffer, onFrame: (frame: StompFrame) => void): void {
    const buffer = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    let offset = 0;
    while (offset < buffer.length) {
      while (offset < buffer.length && (buffer[offset] === 0x0a || buffer[offset] === 0x0d)) offset++;
      if (offset >= buffer.length) break;
      const headerEnd = findHeaderEnd(buffer, offset);
      if (headerEnd === undefined) break;
      const lines = buffer.toString('utf8', offset, headerEnd.linesEnd).replace(/\r$/, '').split(/\r?\n/);
      const command = lines[0] ?? '';
      const escape = escapes(command);
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon < 0) throw new RangeError(`malformed header line: ${JSON.stringify(line)}`);
        const name = escape ? unescapeHeader(line.slice(0, colon)) : line.slice(0, colon);
        // STOMP 1.2: when a header repeats, the first value counts.
        if (!headers.has(name)) {
          headers.set(name, escape ? unescapeHeader(line.slice(colon + 1)) : line.slice(colon + 1));
        }
      }
      const bodyStart = headerEnd.bodyStart;
      const lengthText = headers.get('content-length');
      let bodyEnd: number;
      if (lengthText !== undefined) {
        bodyEnd = bodyStart + Number.parseInt(lengthText, 10);
        if (buffer.length < bodyEnd + 1) break;
        if (buffer[bodyEnd] !== 0) throw new RangeError('frame body is not followed by NUL');
      } else {
        const nul = buffer.indexOf(0, bodyStart);
        if (nul < 0) break;
        bodyEnd = nul;
      }
      onFrame({ command, headers, body: buffer.subarray(bodyStart, bodyEnd) });
      offset = bodyEnd + 1;
    }
    if (offset < buffer.length) this.pending = Buffer.from(buffer.subarray(offset));
  }
}

function findHeaderEnd(buffer: Buffer, from: number): { linesEnd: number; bodyStart: number } | undefined {
  let index = buffer.indexOf(0x0a, from);
  while (index >= 0) {
    if (buffer[index + 1] === 0x0a) return { linesEnd: index, bodyStart: index + 2 };
    if (buffer[index + 1] === 0x0d && buffer[index + 2] === 0x0a) {
      return { linesEnd: index, bodyStart: index + 3 };
    }
    index = buffer.indexOf(0x0a, index + 1);
  }
  return undefined;
}
