// A randomized run of publishes, fetches, acks, nacks, ack-wait expiries and restarts, checking
// at-least-once delivery: an acked message is never delivered again, and every message is
// eventually acked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import type { CoreSession, Delivery } from '../../src/core/api.js';
import type { BrokerCore } from '../../src/core/broker.js';
import { openCore, settle, tempDir } from './helpers.js';

const cases = [
  { seed: 1, dispatch: 'shared', filter: undefined },
  { seed: 2, dispatch: 'shared', filter: 's.a' },
  { seed: 3, dispatch: 'exclusive', filter: undefined },
  { seed: 4, dispatch: 'key_shared', filter: 's.b' },
  { seed: 5, dispatch: 'failover', filter: undefined },
] as const;

for (const { seed, dispatch, filter } of cases) {
  test(`random operations with restarts keep at-least-once (${dispatch}, filter ${filter ?? 'none'}, seed ${seed})`, async () => {
    const temp = await tempDir();
    const clock = new ManualClock();
    let state = seed;
    const random = (): number => (state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const pick = <T>(items: T[]): T | undefined => items[Math.floor(random() * items.length)];
    let core: BrokerCore = await openCore({ dataDir: temp.dir, clock });
    try {
      await core.addStream({ name: 's', subjects: ['s.*'], partitions: 2, fsync: { kind: 'never' } });
      await core.addConsumer('s', {
        name: 'c',
        ackWaitMs: 1_000,
        maxAckPending: 50,
        dispatch,
        ...(filter === undefined ? {} : { filterSubject: filter }),
      });
      let session: CoreSession = core.openSession();
      const published = new Set<string>();
      const acked = new Set<string>();
      let held: Delivery[] = [];
      let sequence = 0;
      const id = (delivery: Delivery): string => `${delivery.partition}:${delivery.offset}`;
      const firstDeliveryMax = new Map<number, number>();
      const take = (deliveries: Delivery[]): void => {
        for (const delivery of deliveries) {
          assert.ok(!acked.has(id(delivery)), `acked ${id(delivery)} was delivered again`);
          if (filter !== undefined) assert.equal(delivery.message.subject, filter);
          if (dispatch !== 'shared' && !delivery.redelivered) {
            // Ordered dispatch: first deliveries come in offset order on each partition.
            const before = firstDeliveryMax.get(delivery.partition) ?? -1;
            assert.ok(delivery.offset > before, `offset ${delivery.offset} after ${before}`);
            firstDeliveryMax.set(delivery.partition, delivery.offset);
          }
          held.push(delivery);
        }
      };
      for (let step = 0; step < 400; step++) {
        const roll = random();
        if (roll < 0.25) {
          for (let index = 0; index < 5; index++) {
            const subject = random() < 0.5 ? 's.a' : 's.b';
            const ack = await session.publishConfirmed({
              subject,
              key: `k${sequence % 7}`,
              body: `${sequence++}`,
            });
            if (filter === undefined || filter === subject) published.add(`${ack.partition}:${ack.offset}`);
          }
        } else if (roll < 0.45) {
          take(await session.fetch('s', 'c', { batch: 1 + Math.floor(random() * 10), expiresMs: 0 }));
        } else if (roll < 0.7) {
          const delivery = pick(held);
          if (delivery === undefined) continue;
          held = held.filter((other) => other !== delivery);
          if (session.ack(delivery) === 'acked') acked.add(id(delivery));
        } else if (roll < 0.8) {
          const delivery = pick(held);
          if (delivery === undefined) continue;
          held = held.filter((other) => other !== delivery);
          session.nack(delivery, { delayMs: Math.floor(random() * 500) });
        } else if (roll < 0.93) {
          clock.advance(Math.floor(random() * 800));
          await settle();
        } else {
          await core.close();
          core = await openCore({ dataDir: temp.dir, clock });
          session = core.openSession();
          held = [];
          firstDeliveryMax.clear();
        }
      }
      // Drain: ack everything that comes, letting timers run, until nothing is left.
      for (let round = 0; round < 200 && acked.size < published.size; round++) {
        take(await session.fetch('s', 'c', { batch: 100, expiresMs: 0 }));
        for (const delivery of held) if (session.ack(delivery) === 'acked') acked.add(id(delivery));
        held = [];
        clock.advance(1_000);
        await settle();
      }
      const missing = [...published].filter((message) => !acked.has(message));
      assert.deepEqual(missing, []);
    } finally {
      await core.close();
      await temp.remove();
    }
  });
}
