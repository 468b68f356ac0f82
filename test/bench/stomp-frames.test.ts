import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPayload, readPayloadStamp, stampPayload } from '../../bench/harness/payload.js';
import {
  encodeFrame,
  encodeSendTemplate,
  parseReceiptId,
  StompFrameReader,
  writeReceiptId,
  type StompFrame,
} from '../../bench/harness/stomp-frames.js';

function readAll(bytes: Buffer, cut?: number): StompFrame[] {
  const frames: StompFrame[] = [];
  const reader = new StompFrameReader();
  if (cut === undefined) reader.read(bytes, (frame) => frames.push(frame));
  else {
    reader.read(bytes.subarray(0, cut), (frame) => frames.push(frame));
    reader.read(bytes.subarray(cut), (frame) => frames.push(frame));
  }
  return frames;
}

test('a SEND template patched with a receipt id and stamp parses back', () => {
  const template = encodeSendTemplate('/queue/a', createPayload(256, 2), [['persistent', 'true']]);
  const frame = Buffer.from(template.frame);
  assert.ok(template.receiptOffset !== undefined);
  writeReceiptId(frame, template.receiptOffset, 0xbeef);
  stampPayload(frame, template.payloadOffset, 7, 99);
  const [parsed] = readAll(frame);
  assert.ok(parsed !== undefined);
  assert.equal(parsed.command, 'SEND');
  assert.equal(parsed.headers.get('destination'), '/queue/a');
  assert.equal(parsed.headers.get('persistent'), 'true');
  assert.equal(parsed.headers.get('content-length'), '256');
  assert.equal(parsed.headers.get('receipt'), '0000beef');
  assert.equal(parseReceiptId(parsed.headers.get('receipt') ?? ''), 0xbeef);
  assert.deepEqual(readPayloadStamp(parsed.body, 0, parsed.body.length), {
    streamIndex: 2,
    sequence: 7,
    sentNs: 99,
  });
});

test('a body with NUL bytes is read by content-length, across any cut', () => {
  const body = Buffer.from([1, 0, 2, 0, 0, 3]);
  const bytes = Buffer.concat([
    encodeFrame('MESSAGE', [['ack', 'a:1']], body),
    Buffer.from('\n\r\n'),
    encodeFrame('RECEIPT', [['receipt-id', 'r1']]),
  ]);
  for (let cut = 1; cut < bytes.length; cut++) {
    const frames = readAll(bytes, cut);
    assert.deepEqual(
      frames.map((frame) => frame.command),
      ['MESSAGE', 'RECEIPT'],
      `cut at ${cut}`,
    );
    assert.deepEqual([...(frames[0]?.body ?? [])], [...body]);
    // STOMP 1.2 value encoding: the ':' in the header value is escaped on the wire.
    assert.equal(frames[0]?.headers.get('ack'), 'a:1');
    assert.equal(frames[1]?.headers.get('receipt-id'), 'r1');
  }
});

test('header values are escaped except in CONNECT and CONNECTED', () => {
  assert.ok(
    encodeFrame('SEND', [['k', 'a:b\nc\\']])
      .toString()
      .includes('k:a\\cb\\nc\\\\\n'),
  );
  assert.ok(
    encodeFrame('CONNECT', [['login', 'a:b']])
      .toString()
      .includes('login:a:b\n'),
  );
});

test('a frame without content-length ends at the first NUL', () => {
  const frames = readAll(Buffer.from('ERROR\nmessage:bad\n\nwhat went wrong\0'));
  assert.equal(frames[0]?.command, 'ERROR');
  assert.equal(frames[0]?.body.toString(), 'what went wrong');
});

test('receipt ids are 8 hex digits and wrap at 32 bits', () => {
  const target = Buffer.alloc(8);
  writeReceiptId(target, 0, 0xffffffff);
  assert.equal(target.toString(), 'ffffffff');
  writeReceiptId(target, 0, 0);
  assert.equal(target.toString(), '00000000');
});

test('a fire-and-forget SEND has no receipt header', () => {
  const template = encodeSendTemplate('/queue/a', createPayload(64, 0), [], false);
  assert.equal(template.receiptOffset, undefined);
  const [parsed] = readAll(template.frame);
  assert.equal(parsed?.headers.has('receipt'), false);
  assert.equal(parsed?.body.length, 64);
});
