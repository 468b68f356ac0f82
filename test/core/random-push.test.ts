// Randomized push delivery: attachments come and go, sessions close with messages in flight,
// acks, nacks and ack waits interleave. At-least-once must hold and ordered dispatch must keep
// first deliveries in offset order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import type { Attachment, CoreSession, Delivery, Dispatch } from '../../src/core/api.js';
import { openCore, settle } from './helpers.js';

for (const [seed, dispatch] of [
  [11, 'shared'],
  [12, 'failover'],
  [13, 'key_shared'],
  [14, 'exclusive'],
] as [number, Dispatch][]) {
  test(`random push attachments keep at-least-once (${dispatch}, seed ${seed})`, async () => {
    const clock = new ManualClock();
    let state = seed;
    const random = (): number => (state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const core = await openCore({ storage: 'memory', clock });
    try {
      await core.addStream({ name: 's', subjects: ['s.*'] });
      await core.addConsumer('s', { name: 'c', dispatch, ackWaitMs: 1_000, maxAckPending: 40 });
      const published = new Set<number>();
      const acked = new Set<number>();
      const held: { session: CoreSession; delivery: Delivery }[] = [];
      const attachments: { session: CoreSession; attachment: Attachment }[] = [];
      const closedSessions = new Set<CoreSession>();
      let firstMax = -1;
      const violations: string[] = [];
      let sequence = 0;
      const publisher = core.openSession();
      const attach = (): void => {
        if (dispatch === 'exclusive' && attachments.length > 0) return;
        const session = core.openSession();
        const attachment = session.attach('s', 'c', {
          credit: 1 + Math.floor(random() * 8),
          onDelivery: (delivery) => {
            // Recorded, not thrown: the session would turn a throw into a detach.
            if (acked.has(delivery.offset)) violations.push(`acked ${delivery.offset} delivered again`);
            if (dispatch !== 'shared' && !delivery.redelivered) {
              if (delivery.offset <= firstMax)
                violations.push(`first delivery ${delivery.offset} after ${firstMax}`);
              firstMax = delivery.offset;
            }
            held.push({ session, delivery });
          },
        });
        attachments.push({ session, attachment });
      };
      const settleOne = (ack: boolean): void => {
        const index = Math.floor(random() * held.length);
        const entry = held[index];
        if (entry === undefined) return;
        held.splice(index, 1);
        // A closed session's deliveries went back to the consumer; nothing to settle.
        if (closedSessions.has(entry.session)) return;
        if (ack) {
          if (entry.session.ack(entry.delivery) === 'acked') acked.add(entry.delivery.offset);
        } else {
          entry.session.nack(entry.delivery);
        }
      };
      attach();
      for (let step = 0; step < 500; step++) {
        const roll = random();
        if (roll < 0.2) {
          for (let index = 0; index < 4; index++) {
            const ack = await publisher.publishConfirmed({
              subject: 's.x',
              key: `k${sequence % 5}`,
              body: `${sequence++}`,
            });
            published.add(ack.offset);
          }
        } else if (roll < 0.55) {
          settleOne(true);
        } else if (roll < 0.62) {
          settleOne(false);
        } else if (roll < 0.7) {
          attach();
        } else if (roll < 0.76) {
          const index = Math.floor(random() * attachments.length);
          const entry = attachments[index];
          if (entry === undefined) continue;
          attachments.splice(index, 1);
          if (random() < 0.5) entry.attachment.close();
          else {
            closedSessions.add(entry.session);
            await entry.session.close();
          }
        } else if (roll < 0.86) {
          clock.advance(Math.floor(random() * 700));
        }
        await settle(2);
      }
      if (attachments.length === 0) attach();
      for (let round = 0; round < 300 && acked.size < published.size; round++) {
        while (held.length > 0) settleOne(true);
        for (const { attachment } of attachments) attachment.grant(10);
        clock.advance(1_000);
        await settle(3);
      }
      assert.deepEqual(violations, []);
      assert.deepEqual(
        [...published].filter((offset) => !acked.has(offset)),
        [],
      );
    } finally {
      await core.close();
    }
  });
}
