import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Offset } from '../common/branded.js';
import { GroupCommit } from './group-commit.js';

/** A controllable fsync: each call waits until the test ends it. */
function fakeSync(): {
  syncAll: () => Promise<number>;
  calls: { offset: number; end: () => void }[];
  written: { offset: number };
} {
  const written = { offset: 0 };
  const calls: { offset: number; end: () => void }[] = [];
  const syncAll = (): Promise<number> => {
    const offset = written.offset;
    return new Promise((resolve) => calls.push({ offset, end: () => resolve(offset) }));
  };
  return { syncAll, calls, written };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('appends in one turn share one fsync, and none resolves before it ends', async () => {
  const sync = fakeSync();
  const groupCommit = new GroupCommit(sync.syncAll, () => {}, 0);
  const resolved: number[] = [];
  const waits = [];
  for (let index = 0; index < 64; index++) {
    sync.written.offset = (index + 1) * 10;
    const result = { baseOffset: Offset(index * 10), lastOffset: Offset(index * 10 + 9) };
    waits.push(groupCommit.wait(result.lastOffset, result).then((value) => resolved.push(value.baseOffset)));
  }
  await tick();
  assert.equal(sync.calls.length, 1, 'one fsync for the whole turn');
  assert.equal(sync.calls[0]!.offset, 640);
  assert.deepEqual(resolved, []);

  // An append written while the fsync runs is not covered by it.
  sync.written.offset = 650;
  const late = groupCommit.wait(649, { baseOffset: Offset(640), lastOffset: Offset(649) });
  let lateResolved = false;
  void late.then(() => (lateResolved = true));
  sync.calls[0]!.end();
  await Promise.all(waits);
  assert.equal(resolved.length, 64);
  await tick();
  assert.equal(lateResolved, false, 'the late append waits for the next fsync');
  assert.equal(sync.calls.length, 2);
  assert.equal(sync.calls[1]!.offset, 650);
  sync.calls[1]!.end();
  await late;
  assert.equal(groupCommit.syncCount, 2);
  assert.equal(groupCommit.recordsCovered, 650);
  await groupCommit.drained();
});

test('a failed fsync fails every waiter and every later append', async () => {
  let failures = 0;
  const groupCommit = new GroupCommit(
    () => Promise.reject(new Error('EIO')),
    () => failures++,
    0,
  );
  const first = groupCommit.wait(0, { baseOffset: Offset(0), lastOffset: Offset(0) });
  await assert.rejects(first, /EIO/);
  await assert.rejects(groupCommit.wait(1, { baseOffset: Offset(1), lastOffset: Offset(1) }), /EIO/);
  assert.equal(failures, 1);
});
