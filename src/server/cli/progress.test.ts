import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressBar, renderProgress } from './progress.js';

test('renderProgress shows the bar, percentage, counts and rate', () => {
  assert.equal(renderProgress(0, 100, 0, 'pub'), `pub [${' '.repeat(30)}]   0%  0/100  0/s`);
  assert.equal(
    renderProgress(50, 100, 1000, 'pub'),
    `pub [${'='.repeat(14)}>${' '.repeat(15)}]  50%  50/100  50/s`,
  );
  assert.equal(renderProgress(100, 100, 2000, 'pub'), `pub [${'='.repeat(30)}] 100%  100/100  50/s`);
});

test('ProgressBar draws only after its delay, at most once per interval, and clears its line', () => {
  let now = 0;
  const written: string[] = [];
  const stream = {
    write: (text: string) => written.push(text),
    isTTY: true,
  } as unknown as NodeJS.WriteStream;
  const bar = new ProgressBar({
    total: 10,
    label: 'x',
    stream,
    delayMs: 1000,
    intervalMs: 100,
    nowMs: () => now,
  });
  bar.tick(1);
  assert.equal(written.length, 0, 'nothing before the delay');
  now = 1000;
  bar.tick(1);
  now = 1050;
  bar.tick(1);
  assert.equal(written.length, 1, 'one draw per interval');
  now = 1060;
  bar.tick(7);
  assert.equal(written.length, 2, 'the final count always draws');
  assert.match(written[1] ?? '', /100% {2}10\/10/);
  bar.stop();
  assert.equal(written.at(-1), '\r\x1b[2K');
});

test('ProgressBar stays silent when not on a terminal', () => {
  const written: string[] = [];
  const stream = {
    write: (text: string) => written.push(text),
    isTTY: false,
  } as unknown as NodeJS.WriteStream;
  const bar = new ProgressBar({ total: 1, label: 'x', stream, delayMs: 0, nowMs: () => 5000 });
  bar.tick(1);
  bar.stop();
  assert.deepEqual(written, []);
  assert.equal(bar.done, 1);
});
