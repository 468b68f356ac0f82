import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import {
  byteSizeArgument,
  consumerConfigFromFlags,
  deliverPolicyArgument,
  fsyncArgument,
  headerArgument,
  integerArgument,
  listArgument,
  streamConfigFromFlags,
} from './parse.js';

test('integer and size arguments', () => {
  assert.equal(integerArgument(0, 9)('7'), 7);
  assert.throws(() => integerArgument(0, 9)('12'), InvalidArgumentError);
  assert.throws(() => integerArgument(0)('1.5'), InvalidArgumentError);
  assert.equal(byteSizeArgument('100'), 100);
  assert.equal(byteSizeArgument('1k'), 1024);
  assert.equal(byteSizeArgument('4MiB'), 4 * 1024 * 1024);
  assert.throws(() => byteSizeArgument('lots'), InvalidArgumentError);
});

test('lists and headers accumulate over repeated flags', () => {
  assert.deepEqual(listArgument('b, c', listArgument('a', undefined)), ['a', 'b', 'c']);
  assert.deepEqual(headerArgument('y=2=3', headerArgument('x=1', undefined)), { x: '1', y: '2=3' });
  assert.throws(() => headerArgument('novalue', undefined), InvalidArgumentError);
});

test('deliver and fsync policies', () => {
  assert.deepEqual(deliverPolicyArgument('new'), { kind: 'new' });
  assert.deepEqual(deliverPolicyArgument('offset:42'), { kind: 'offset', offset: 42 });
  assert.deepEqual(deliverPolicyArgument('time:2026-01-01T00:00:00Z'), {
    kind: 'time',
    timeMs: Date.UTC(2026, 0, 1),
  });
  assert.throws(() => deliverPolicyArgument('soon'), InvalidArgumentError);
  assert.deepEqual(fsyncArgument('always'), { kind: 'always' });
  assert.deepEqual(fsyncArgument('interval:50'), { kind: 'interval', intervalMs: 50 });
  assert.throws(() => fsyncArgument('sometimes'), InvalidArgumentError);
});

test('stream and consumer configurations carry only the flags given', () => {
  assert.deepEqual(streamConfigFromFlags('ORDERS', {}), { name: 'ORDERS', subjects: ['ORDERS'] });
  assert.deepEqual(
    streamConfigFromFlags('ORDERS', { subjects: ['orders.>'], retention: 'workqueue', maxBytes: 1024 }),
    {
      name: 'ORDERS',
      subjects: ['orders.>'],
      retention: 'workqueue',
      maxBytes: 1024,
    },
  );
  assert.deepEqual(consumerConfigFromFlags('c', {}), { name: 'c', durable: true });
  assert.deepEqual(
    consumerConfigFromFlags('c', { ephemeral: true, backoffMs: ['10', '100'], filter: 'a.*' }),
    {
      name: 'c',
      durable: false,
      backoffMs: [10, 100],
      filterSubject: 'a.*',
    },
  );
});
