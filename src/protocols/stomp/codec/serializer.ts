// Frame → bytes. Headers are escaped for the negotiated version (never for CONNECT, STOMP
// and CONNECTED). A frame with a body always carries `content-length`, so bodies may hold
// NUL bytes and a peer can read them without scanning (STOMP 1.2: "Header content-length").
import { escapeHeader } from './escape.js';
import { isEscapedCommand, type HeaderEntry, type StompFrame, type StompVersion } from './frame.js';

export function encodeFrame(frame: StompFrame, version: StompVersion): Buffer {
  const escaped = isEscapedCommand(frame.command);
  let head = `${frame.command}\n`;
  let sawLength = false;
  for (const [name, value] of frame.headers) {
    if (name === 'content-length') {
      if (sawLength) continue;
      sawLength = true;
      head += `content-length:${frame.body.length}\n`;
      continue;
    }
    head += escaped
      ? `${escapeHeader(name, version)}:${escapeHeader(value, version)}\n`
      : `${stripLineBreaks(name)}:${stripLineBreaks(value)}\n`;
  }
  if (!sawLength && frame.body.length > 0) head += `content-length:${frame.body.length}\n`;
  head += '\n';
  const headBytes = Buffer.byteLength(head);
  const out = Buffer.allocUnsafe(headBytes + frame.body.length + 1);
  out.write(head, 0, 'utf8');
  frame.body.copy(out, headBytes);
  out[out.length - 1] = 0;
  return out;
}

/** One heart-beat: a single EOL. */
export const heartBeatBytes: Buffer = Buffer.from('\n');

export function frameOf(
  command: StompFrame['command'],
  headers: readonly HeaderEntry[],
  body?: Buffer | string,
): StompFrame {
  return {
    command,
    headers,
    body: body === undefined ? Buffer.alloc(0) : typeof body === 'string' ? Buffer.from(body) : body,
  };
}

function stripLineBreaks(text: string): string {
  return /[\r\n]/.test(text) ? text.replace(/[\r\n]/g, ' ') : text;
}
