import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, isWeirError } from '../../common/errors.js';
import { ProducerStateTable, recentSequences } from './producer-state.js';

const producer = 42n;

function store(table: ProducerStateTable, epoch: number, sequence: number, offset: number): void {
  assert.deepEqual(table.check({ id: producer, epoch, sequence }), { kind: 'new' });
  table.stored({ id: producer, epoch, sequence }, offset);
}

test('new sequences are stored, retries confirmed with their offsets, gaps refused', () => {
  const table = new ProducerStateTable();
  store(table, 0, 0, 100);
  store(table, 0, 1, 101);
  assert.deepEqual(table.check({ id: producer, epoch: 0, sequence: 0 }), { kind: 'duplicate', offset: 100 });
  assert.deepEqual(table.check({ id: producer, epoch: 0, sequence: 1 }), { kind: 'duplicate', offset: 101 });
  assert.throws(
    () => table.check({ id: producer, epoch: 0, sequence: 5 }),
    (error: unknown) =>
      isWeirError(error, ErrorCode.InvalidArgument) && /skips ahead: expected 2/.test(error.message),
  );
  for (let sequence = 2; sequence < 2 + recentSequences; sequence++)
    store(table, 0, sequence, 100 + sequence);
  // Too old to remember its offset, but certainly stored: confirmed, offset unknown.
  assert.deepEqual(table.check({ id: producer, epoch: 0, sequence: 0 }), { kind: 'duplicate', offset: -1 });
});

test('a retry while the original is still being appended is in flight', () => {
  const table = new ProducerStateTable();
  assert.deepEqual(table.check({ id: producer, epoch: 0, sequence: 0 }), { kind: 'new' });
  assert.deepEqual(table.check({ id: producer, epoch: 0, sequence: 0 }), { kind: 'in_flight' });
  assert.deepEqual(table.check({ id: producer, epoch: 0, sequence: 1 }), { kind: 'new' });
  table.stored({ id: producer, epoch: 0, sequence: 0 }, 7);
  assert.deepEqual(table.check({ id: producer, epoch: 0, sequence: 0 }), { kind: 'duplicate', offset: 7 });
  assert.deepEqual(table.check({ id: producer, epoch: 0, sequence: 2 }), { kind: 'new' });
});

test('an older epoch is fenced; a newer one starts over', () => {
  const table = new ProducerStateTable();
  store(table, 1, 0, 10);
  assert.throws(
    () => table.check({ id: producer, epoch: 0, sequence: 1 }),
    (error: unknown) => isWeirError(error, ErrorCode.ProducerFenced),
  );
  store(table, 2, 0, 11);
  assert.deepEqual(table.check({ id: producer, epoch: 2, sequence: 0 }), { kind: 'duplicate', offset: 11 });
});

test('the table rebuilds from batch producer fields', () => {
  const table = new ProducerStateTable();
  table.apply(producer, 3, 0, 50, 4);
  table.apply(7n, 0, 10, 60, 1);
  assert.deepEqual(table.check({ id: producer, epoch: 3, sequence: 2 }), { kind: 'duplicate', offset: 52 });
  assert.deepEqual(table.check({ id: producer, epoch: 3, sequence: 4 }), { kind: 'new' });
  assert.deepEqual(table.check({ id: 7n, epoch: 0, sequence: 10 }), { kind: 'duplicate', offset: 60 });
  assert.equal(table.size, 2);
});
