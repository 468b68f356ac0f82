import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../common/clock.js';
import type { StreamInfo } from '../../core/api.js';
import { CaptureCache } from './capture-cache.js';

function stream(name: string, subjects: string[]): StreamInfo {
  return { config: { name, subjects } } as unknown as StreamInfo;
}

test('sees new streams after the refresh interval, or at once when invalidated', () => {
  const clock = new ManualClock(0);
  let streams: StreamInfo[] = [stream('orders', ['orders.>'])];
  const cache = new CaptureCache(() => streams, clock);
  assert.equal(cache.captured('orders.eu'), true);
  assert.equal(cache.captured('sensors.t'), false);
  streams = [...streams, stream('sensors', ['sensors.*'])];
  assert.equal(cache.captured('sensors.t'), false, 'not refreshed yet');
  clock.advance(250);
  assert.equal(cache.captured('sensors.t'), true);
  streams = [];
  cache.invalidate();
  assert.equal(cache.captured('orders.eu'), false);
});

test('without a way to list streams everything counts as captured', () => {
  const cache = new CaptureCache(undefined, new ManualClock(0));
  assert.equal(cache.captured('any.thing'), true);
});
