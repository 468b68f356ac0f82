// Incremental STOMP frame parser: bytes in, frames out (STOMP 1.2 "Augmented BNF").
// Pure: no I/O, no timers. A parse error is final: the connection must be closed after the
// ERROR frame, so the parser stays failed and reports the same error on every later push.
//
// Bodies are read by `content-length` when the header is present (they may then contain
// NUL bytes) and up to the first NUL otherwise. EOLs between frames are heart-beats.
import { StompLimits } from '../../../common/limits.js';
import { assert } from '../../../common/assert.js';
import { malformed, StompFrameError, tooLarge } from './errors.js';
import { unescapeHeader } from './escape.js';
import {
  isCommand,
  isEscapedCommand,
  type Command,
  type HeaderEntry,
  type StompFrame,
  type StompVersion,
} from './frame.js';

export interface ParserLimits {
  readonly headerBytesMax: number;
  readonly headersMax: number;
  readonly bodyBytesMax: number;
}

export interface ParseResult {
  readonly frames: StompFrame[];
  /** EOLs seen between frames. */
  readonly heartBeats: number;
  /** Set once the input is malformed or over a limit; frames before it are still returned. */
  readonly error: StompFrameError | undefined;
}

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

interface PendingBody {
  readonly command: Command;
  readonly headers: readonly HeaderEntry[];
  /** Offset of the body in the buffer. */
  readonly bodyStart: number;
  /** From content-length; undefined means "up to the first NUL". */
  readonly bodyLength: number | undefined;
}

export class StompParser {
  readonly #limits: ParserLimits;
  #version: StompVersion = '1.0';
  #chunks: Buffer[] = [];
  #length = 0;
  /** Bytes that must be buffered before parsing can make progress. */
  #needBytes = 0;
  /** Where the next search for the header end or the body's NUL starts. */
  #scanFrom = 0;
  #pending: PendingBody | undefined;
  #error: StompFrameError | undefined;
  #awaitingVersion = true;
  /** A CONNECT was parsed and the version is not set yet: later bytes wait. */
  #heldForVersion = false;

  constructor(limits: Partial<ParserLimits> = {}) {
    this.#limits = {
      headerBytesMax: limits.headerBytesMax ?? StompLimits.headerBytesMax,
      headersMax: limits.headersMax ?? StompLimits.headersMax,
      bodyBytesMax: limits.bodyBytesMax ?? StompLimits.bodyBytesMax,
    };
  }

  /**
   * Header escaping follows the negotiated version; until CONNECTED it is 1.0 (none). The
   * parser stops after a CONNECT or STOMP frame and holds what follows until the version is
   * set, so frames a client pipelines behind its CONNECT are read with the right rules;
   * `resume()` then parses them.
   */
  setVersion(version: StompVersion): void {
    this.#version = version;
    this.#awaitingVersion = false;
    this.#heldForVersion = false;
  }

  /** Parses bytes held back while the version was being negotiated. */
  resume(): ParseResult {
    if (this.#error !== undefined || this.#length === 0) {
      return { frames: [], heartBeats: 0, error: this.#error };
    }
    const held = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#length);
    this.#chunks = [];
    this.#length = 0;
    this.#needBytes = 0;
    return this.push(held);
  }

  /** Bytes held that do not yet form a whole frame. */
  get bufferedBytes(): number {
    return this.#length;
  }

  push(chunk: Buffer): ParseResult {
    const frames: StompFrame[] = [];
    if (this.#error !== undefined) return { frames, heartBeats: 0, error: this.#error };
    if (chunk.length === 0) return { frames, heartBeats: 0, error: undefined };
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    if (this.#awaitingVersion && this.#heldForVersion) return { frames, heartBeats: 0, error: undefined };
    // Waiting for more content-length bytes, or for a NUL that this chunk does not have:
    // keep the chunk aside instead of copying the held bytes again.
    if (this.#length < this.#needBytes) return { frames, heartBeats: 0, error: undefined };
    const pendingNow = this.#pending;
    if (pendingNow !== undefined && pendingNow.bodyLength === undefined && chunk.indexOf(NUL) === -1) {
      if (this.#length - pendingNow.bodyStart > this.#limits.bodyBytesMax) {
        return this.#fail(frames, 0, tooLarge(`frame body exceeds ${this.#limits.bodyBytesMax} bytes`));
      }
      return { frames, heartBeats: 0, error: undefined };
    }
    const buffer = this.#chunks.length === 1 ? chunk : Buffer.concat(this.#chunks, this.#length);
    this.#chunks = [];
    this.#length = 0;
    this.#needBytes = 0;
    let heartBeats = 0;
    // A held pending frame starts at offset 0 of the held bytes.
    let position = 0;
    for (;;) {
      if (this.#pending === undefined) {
        // Heart-beats: EOLs before a command.
        while (position < buffer.length) {
          const byte = buffer[position];
          if (byte === LF) {
            heartBeats++;
            position++;
          } else if (byte === CR && position + 1 < buffer.length) {
            if (buffer[position + 1] !== LF) {
              return this.#fail(
                frames,
                heartBeats,
                malformed('a carriage return not followed by a line feed'),
              );
            }
            heartBeats++;
            position += 2;
          } else break;
        }
        if (position >= buffer.length) return { frames, heartBeats, error: undefined };
        const head = this.#parseHead(buffer, position);
        if (head === undefined) {
          if (buffer.length - position > this.#limits.headerBytesMax) {
            const error = tooLarge(`frame headers exceed ${this.#limits.headerBytesMax} bytes`);
            return this.#fail(frames, heartBeats, error);
          }
          this.#hold(buffer.subarray(position));
          return { frames, heartBeats, error: undefined };
        }
        if (head instanceof StompFrameError) return this.#fail(frames, heartBeats, head);
        this.#pending = head;
        this.#scanFrom = head.bodyStart;
      }
      const next = this.#body(buffer, position, frames);
      if (next instanceof StompFrameError) return this.#fail(frames, heartBeats, next);
      if (next === undefined) return { frames, heartBeats, error: undefined };
      const last = frames[frames.length - 1];
      if (this.#awaitingVersion && (last?.command === 'CONNECT' || last?.command === 'STOMP')) {
        this.#heldForVersion = true;
        this.#hold(buffer.subarray(next));
        return { frames, heartBeats, error: undefined };
      }
      if (next >= buffer.length) return { frames, heartBeats, error: undefined };
      position = next;
    }
  }

  /**
   * Reads the body of the pending frame that starts at `frameStart`. Returns where the next
   * frame starts, or undefined when the body has not all arrived (the frame is then held).
   */
  #body(buffer: Buffer, frameStart: number, frames: StompFrame[]): number | StompFrameError | undefined {
    const pending = this.#pending;
    assert(pending !== undefined, 'a body is read only for a pending frame');
    let end: number;
    if (pending.bodyLength !== undefined) {
      end = pending.bodyStart + pending.bodyLength;
      if (buffer.length - frameStart <= end) {
        this.#hold(buffer.subarray(frameStart));
        this.#needBytes = end + 1;
        return undefined;
      }
      if (buffer[frameStart + end] !== NUL) {
        return malformed('the body is not followed by a NUL byte at content-length');
      }
    } else {
      const nul = buffer.indexOf(NUL, frameStart + this.#scanFrom);
      end = nul === -1 ? buffer.length - frameStart : nul - frameStart;
      if (end - pending.bodyStart > this.#limits.bodyBytesMax) {
        return tooLarge(`frame body exceeds ${this.#limits.bodyBytesMax} bytes`);
      }
      if (nul === -1) {
        this.#hold(buffer.subarray(frameStart));
        this.#scanFrom = end;
        return undefined;
      }
    }
    frames.push({
      command: pending.command,
      headers: pending.headers,
      body: buffer.subarray(frameStart + pending.bodyStart, frameStart + end),
    });
    this.#pending = undefined;
    this.#scanFrom = 0;
    return frameStart + end + 1;
  }

  #hold(rest: Buffer): void {
    this.#chunks = rest.length === 0 ? [] : [rest];
    this.#length = rest.length;
  }

  #fail(frames: StompFrame[], heartBeats: number, error: StompFrameError): ParseResult {
    this.#error = error;
    this.#pending = undefined;
    this.#chunks = [];
    this.#length = 0;
    return { frames, heartBeats, error };
  }

  /**
   * Finds the blank line that ends the headers of the frame starting at `start`, and parses
   * the command and headers. Undefined when the blank line has not arrived yet.
   */
  #parseHead(buffer: Buffer, start: number): PendingBody | StompFrameError | undefined {
    const limit = Math.min(buffer.length, start + this.#limits.headerBytesMax + 2);
    let lineStart = start;
    const lines: string[] = [];
    let headEnd = -1;
    for (;;) {
      const lineEnd = buffer.indexOf(LF, lineStart);
      if (lineEnd === -1 || lineEnd >= limit) return undefined;
      const contentEnd = lineEnd > lineStart && buffer[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
      if (contentEnd === lineStart) {
        headEnd = lineEnd + 1;
        break;
      }
      lines.push(buffer.toString('utf8', lineStart, contentEnd));
      if (lines.length > this.#limits.headersMax + 1) {
        return tooLarge(`a frame has more than ${this.#limits.headersMax} headers`);
      }
      lineStart = lineEnd + 1;
    }
    if (headEnd - start > this.#limits.headerBytesMax) {
      return tooLarge(`frame headers exceed ${this.#limits.headerBytesMax} bytes`);
    }
    const commandLine = lines[0];
    if (commandLine === undefined) return malformed('a frame has no command');
    if (!isCommand(commandLine)) return malformed(`unknown command '${commandLine.slice(0, 64)}'`);
    const escaped = this.#version !== '1.0' && isEscapedCommand(commandLine);
    const headers: HeaderEntry[] = [];
    let bodyLength: number | undefined;
    let sawLength = false;
    for (let index = 1; index < lines.length; index++) {
      const line = lines[index] ?? '';
      const colon = line.indexOf(':');
      if (colon <= 0) {
        return malformed(
          colon === 0 ? 'a header has an empty name' : `a header line has no colon: '${line.slice(0, 64)}'`,
        );
      }
      let name = line.slice(0, colon);
      let value = line.slice(colon + 1);
      if (this.#version === '1.0') {
        // STOMP 1.0 clients commonly write "name: value"; 1.1 and later keep spaces as data.
        name = name.trim();
        value = value.trim();
      } else if (escaped) {
        try {
          name = unescapeHeader(name, this.#version);
          value = unescapeHeader(value, this.#version);
        } catch (error) {
          return error as StompFrameError;
        }
      }
      if (name === 'content-length' && !sawLength) {
        sawLength = true;
        if (!/^[0-9]{1,10}$/.test(value))
          return malformed(`content-length '${value.slice(0, 32)}' is not a number`);
        bodyLength = Number(value);
        if (bodyLength > this.#limits.bodyBytesMax) {
          return tooLarge(`content-length ${bodyLength} exceeds ${this.#limits.bodyBytesMax} bytes`);
        }
      }
      headers.push([name, value]);
    }
    return { command: commandLine, headers, bodyStart: headEnd - start, bodyLength };
  }
}
