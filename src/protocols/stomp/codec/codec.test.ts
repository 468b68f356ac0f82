import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ErrorCode } from '../../../common/errors.js';
import { StompFrameError } from './errors.js';
import {
  ClientCommand,
  ServerCommand,
  header,
  type HeaderEntry,
  type StompFrame,
  type StompVersion,
} from './frame.js';
import { StompParser } from './parser.js';
import { encodeFrame } from './serializer.js';

function parseAll(
  chunks: readonly Buffer[],
  version: StompVersion = '1.2',
  limits = {},
): {
  frames: StompFrame[];
  heartBeats: number;
  error: StompFrameError | undefined;
} {
  const parser = new StompParser(limits);
  parser.setVersion(version);
  const frames: StompFrame[] = [];
  let heartBeats = 0;
  for (const chunk of chunks) {
    const result = parser.push(chunk);
    frames.push(...result.frames);
    heartBeats += result.heartBeats;
    if (result.error !== undefined) return { frames, heartBeats, error: result.error };
  }
  return { frames, heartBeats, error: undefined };
}

function split(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

const versionArb = fc.constantFrom<StompVersion>('1.0', '1.1', '1.2');
const commandArb = fc.constantFrom(...Object.values(ClientCommand), ...Object.values(ServerCommand));

function headerArb(version: StompVersion, escaped: boolean): fc.Arbitrary<HeaderEntry> {
  // What each version can carry: 1.2 everything, 1.1 no CR, 1.0 and unescaped frames neither
  // line breaks nor a colon in the name nor surrounding spaces (1.0 trims).
  const plain = version === '1.0' || !escaped;
  const chars = plain
    ? fc.string({ unit: fc.constantFrom('a', 'b', 'é', '1', '-', ' ', '/', '.', '\\', '中') })
    : fc.string({
        unit: fc.constantFrom(
          'a',
          'b',
          ':',
          '\\',
          '\n',
          ...(version === '1.2' ? ['\r'] : []),
          ' ',
          'é',
          '中',
        ),
      });
  const name = fc
    .string({ unit: fc.constantFrom('a', 'b', 'x', '-', ...(plain ? [] : [':', '\\', '\n'])), minLength: 1 })
    .filter((value) => value !== 'content-length');
  return fc.tuple(
    name,
    chars.map((value) => (version === '1.0' ? value.trim() : value)),
  );
}

function frameArb(version: StompVersion): fc.Arbitrary<StompFrame> {
  return commandArb.chain((command) => {
    const escaped = command !== 'CONNECT' && command !== 'STOMP' && command !== 'CONNECTED';
    return fc.record({
      command: fc.constant(command),
      headers: fc.array(headerArb(version, escaped), { maxLength: 8 }),
      body: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    });
  });
}

const framesArb = versionArb.chain((version) =>
  fc.record({
    version: fc.constant(version),
    frames: fc.array(frameArb(version), { minLength: 1, maxLength: 4 }),
  }),
);

test('encode then parse gives the frame back, however the bytes are split', () => {
  fc.assert(
    fc.property(framesArb, fc.array(fc.nat(), { maxLength: 6 }), ({ version, frames }, cuts) => {
      const bytes = Buffer.concat(
        frames.flatMap((frame) => [encodeFrame(frame, version), Buffer.from('\n')]),
      );
      const result = parseAll(split(bytes, cuts), version);
      assert.equal(result.error, undefined);
      assert.equal(result.frames.length, frames.length);
      assert.equal(result.heartBeats, frames.length);
      frames.forEach((frame, index) => {
        const parsed = result.frames[index];
        assert.ok(parsed !== undefined);
        assert.equal(parsed.command, frame.command);
        assert.deepEqual(
          parsed.headers.filter(([name]) => name !== 'content-length'),
          frame.headers,
        );
        assert.ok(parsed.body.equals(frame.body));
      });
    }),
    { numRuns: 400 },
  );
});

test('random bytes only ever produce frames or a typed error', () => {
  const noise = fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes));
  // Bytes biased towards STOMP's own structure find the deeper paths.
  const structured = fc
    .array(
      fc.oneof(
        fc.constantFrom(
          'SEND\n',
          'CONNECT\n',
          'MESSAGE\n',
          'content-length:',
          '3',
          '\n',
          '\r\n',
          '\0',
          ':',
          'a',
          '\\c',
          '\\x',
          'BOGUS\n',
        ),
        fc.string({ maxLength: 5 }),
      ),
      { maxLength: 40 },
    )
    .map((parts) => Buffer.from(parts.join('')));
  fc.assert(
    fc.property(
      fc.oneof(noise, structured),
      fc.array(fc.nat(), { maxLength: 5 }),
      versionArb,
      (bytes, cuts, version) => {
        const result = parseAll(split(bytes, cuts), version, {
          headerBytesMax: 128,
          bodyBytesMax: 64,
          headersMax: 8,
        });
        if (result.error !== undefined) {
          assert.ok(result.error instanceof StompFrameError);
          assert.ok(
            result.error.code === ErrorCode.ProtocolError || result.error.code === ErrorCode.FrameTooLarge,
          );
        }
        for (const frame of result.frames) assert.ok(frame.body.length <= 64);
      },
    ),
    { numRuns: 2000 },
  );
});

test('a content-length body may contain NUL bytes', () => {
  const body = Buffer.from([1, 0, 2, 0, 0, 3]);
  const frame: StompFrame = { command: 'SEND', headers: [['destination', '/queue/a']], body };
  const result = parseAll([encodeFrame(frame, '1.2')]);
  assert.equal(result.error, undefined);
  assert.ok(result.frames[0]?.body.equals(body));
  assert.equal(header(result.frames[0]!, 'content-length'), '6');
});

test('CR LF line ends, repeated headers (first wins) and heart-beats', () => {
  const bytes = Buffer.from('\r\n\nSEND\r\ndestination:/queue/a\r\ndestination:/queue/b\r\n\r\nhi\0\n\r\n');
  const result = parseAll([bytes]);
  assert.equal(result.error, undefined);
  assert.equal(result.heartBeats, 4);
  assert.equal(header(result.frames[0]!, 'destination'), '/queue/a');
  assert.equal(result.frames[0]?.body.toString(), 'hi');
});

test('escapes decode in 1.2 and stay raw in CONNECT and in 1.0', () => {
  const send = parseAll([Buffer.from('SEND\na\\cb:x\\ny\\\\z\\r\n\n\0')]);
  assert.deepEqual(send.frames[0]?.headers, [['a:b', 'x\ny\\z\r']]);
  const connect = parseAll([Buffer.from('CONNECT\nlogin:a\\cb\n\n\0')]);
  assert.deepEqual(connect.frames[0]?.headers, [['login', 'a\\cb']]);
  const old = parseAll([Buffer.from('SEND\ndestination: /queue/a\\n \n\n\0')], '1.0');
  assert.deepEqual(old.frames[0]?.headers, [['destination', '/queue/a\\n']]);
});

test('malformed input is a typed error', () => {
  const cases: [string, string][] = [
    ['SEND\na:\\t\n\n\0', 'undefined escape'],
    ['FOO\n\n\0', 'unknown command'],
    ['SEND\nnocolon\n\n\0', 'no colon'],
    ['SEND\n:value\n\n\0', 'empty name'],
    ['SEND\ncontent-length:abc\n\n\0', 'not a number'],
    ['SEND\ncontent-length:2\n\nabc\0', 'not followed by a NUL'],
    ['\rX', 'carriage return'],
  ];
  for (const [input, expected] of cases) {
    const result = parseAll([Buffer.from(input)]);
    assert.ok(result.error !== undefined, input);
    assert.equal(result.error.code, ErrorCode.ProtocolError);
    assert.match(result.error.message, new RegExp(expected));
  }
});

test('limits: header bytes, header count, body bytes (with and without content-length)', () => {
  const limits = { headerBytesMax: 100, headersMax: 3, bodyBytesMax: 10 };
  const cases = [
    `SEND\nh:${'x'.repeat(200)}\n\n\0`,
    `SEND\n${'x'.repeat(200)}`,
    'SEND\na:1\nb:2\nc:3\nd:4\n\n\0',
    'SEND\ncontent-length:11\n\n',
    `SEND\n\n${'y'.repeat(11)}`,
  ];
  for (const input of cases) {
    const result = parseAll([Buffer.from(input)], '1.2', limits);
    assert.equal(result.error?.code, ErrorCode.FrameTooLarge, input);
  }
  // A body without content-length that grows across chunks is caught without its NUL.
  const chunks = Array.from({ length: 5 }, (_, index) => Buffer.from(index === 0 ? 'SEND\n\nabc' : 'abc'));
  assert.equal(parseAll(chunks, '1.2', limits).error?.code, ErrorCode.FrameTooLarge);
});

test('a failed parser stays failed', () => {
  const parser = new StompParser();
  assert.ok(parser.push(Buffer.from('NOPE\n\n\0')).error);
  const again = parser.push(Buffer.from('SEND\n\n\0'));
  assert.equal(again.frames.length, 0);
  assert.ok(again.error);
});

test('many small frames in one chunk do not recurse', () => {
  const one = encodeFrame(
    { command: 'SEND', headers: [['destination', '/queue/a']], body: Buffer.from('x') },
    '1.2',
  );
  const result = parseAll([Buffer.concat(Array.from({ length: 20_000 }, () => one))]);
  assert.equal(result.frames.length, 20_000);
});
