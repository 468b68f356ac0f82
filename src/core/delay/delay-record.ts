// The records of a delay bucket log (see delay-index.ts). Each is the value of one log record,
// little-endian:
//
//   schedule (24 bytes + message):
//     0   1   kind, 1
//     1   3   reserved, 0
//     4   4   partition, u32
//     8   8   id, float64 (an integer < 2^53, unique within the index)
//     16  8   dueMs, float64
//     24  …   the encoded message (message-codec.ts), to the end of the record
//
//   done (16 bytes): the entry was released; it must not be released again.
//     0   1   kind, 2
//     1   7   reserved, 0
//     8   8   id, float64
//
// Level 0 buckets hold both kinds; coarser buckets only schedules (they cascade whole).

import { assert } from '../../common/assert.js';
import { CorruptLogError } from '../../common/errors.js';

export const DelayRecordKind = { schedule: 1, done: 2 } as const;

const scheduleHeaderBytes = 24;
const doneBytes = 16;

export interface DelayEntry {
  readonly id: number;
  readonly dueMs: number;
  readonly partition: number;
  /** The encoded message. */
  readonly value: Buffer;
}

export type DelayRecord =
  | { readonly kind: typeof DelayRecordKind.schedule; readonly entry: DelayEntry }
  | { readonly kind: typeof DelayRecordKind.done; readonly id: number };

export function encodeSchedule(entry: DelayEntry): Buffer {
  assert(Number.isSafeInteger(entry.id) && entry.id >= 0, 'delay ids are safe integers');
  assert(Number.isSafeInteger(entry.dueMs), 'due times are integers');
  const bytes = Buffer.allocUnsafe(scheduleHeaderBytes + entry.value.length);
  bytes.writeUInt32LE(DelayRecordKind.schedule, 0);
  bytes.writeUInt32LE(entry.partition, 4);
  bytes.writeDoubleLE(entry.id, 8);
  bytes.writeDoubleLE(entry.dueMs, 16);
  entry.value.copy(bytes, scheduleHeaderBytes);
  return bytes;
}

export function encodeDone(id: number): Buffer {
  const bytes = Buffer.alloc(doneBytes);
  bytes.writeUInt8(DelayRecordKind.done, 0);
  bytes.writeDoubleLE(id, 8);
  return bytes;
}

/** Decodes one record; `where` names the bucket for the error a damaged record gets. */
export function decodeDelayRecord(bytes: Buffer, where: string): DelayRecord {
  const kind = bytes.length >= doneBytes ? bytes.readUInt8(0) : 0;
  if (kind === DelayRecordKind.done && bytes.length === doneBytes) {
    return { kind, id: bytes.readDoubleLE(8) };
  }
  if (kind === DelayRecordKind.schedule && bytes.length >= scheduleHeaderBytes) {
    return {
      kind,
      entry: {
        partition: bytes.readUInt32LE(4),
        id: bytes.readDoubleLE(8),
        dueMs: bytes.readDoubleLE(16),
        value: bytes.subarray(scheduleHeaderBytes),
      },
    };
  }
  throw new CorruptLogError(where, 0, `not a delay record (kind ${kind}, ${bytes.length} bytes)`);
}
