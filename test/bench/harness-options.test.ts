import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHarnessArgs } from '../../bench/harness/harness.js';
import { Profile, workloadsFor } from '../../bench/harness/workloads.js';

test('no arguments: the quick profile with a report', () => {
  const options = parseHarnessArgs([]);
  assert.equal(options.profile, Profile.Quick);
  assert.equal(options.systems, undefined);
  assert.ok(options.reportPath?.endsWith('bench/REPORT.md'));
});

test('--full, filters, notes and --no-report', () => {
  const options = parseHarnessArgs([
    '--full',
    '--systems',
    'weir,mosquitto',
    '--protocols',
    'stomp',
    '--note',
    'a b',
    '--no-report',
  ]);
  assert.equal(options.profile, Profile.Full);
  assert.deepEqual(options.systems, ['weir', 'mosquitto']);
  assert.deepEqual(options.protocols, ['stomp']);
  assert.deepEqual(options.notes, ['a b']);
  assert.equal(options.reportPath, undefined);
});

test('unknown options, systems and protocols are refused', () => {
  assert.throws(() => parseHarnessArgs(['--fast']), /unknown option --fast/);
  assert.throws(() => parseHarnessArgs(['--systems', 'kafka']), /unknown system kafka/);
  assert.throws(() => parseHarnessArgs(['--protocols', 'amqp']), /unknown protocol amqp/);
  assert.throws(() => parseHarnessArgs(['--systems']), /needs a value/);
});

test('the full profile accumulates 10,000,000 messages in the backlog; the quick one fewer', () => {
  const backlog = (profile: Profile): number | undefined =>
    workloadsFor(profile).find((workload) => workload.name === 'backlog-drain')?.backlogMessages;
  assert.equal(backlog(Profile.Full), 10_000_000);
  assert.ok((backlog(Profile.Quick) ?? Infinity) < 1_000_000);
});
