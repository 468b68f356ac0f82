// PUBLISH: a batch of messages. Fire-and-forget hands each to the core at once; confirmed
// answers one PUBLISH_ACK for the whole batch once every message is durable, with a result
// per message in order, so one bad message does not fail its neighbours.

import type { PublishAck } from '../../../core/api.js';
import type { PublishFrame, PublishResult } from '../codec/index.js';
import { publishInputOf, weirErrorOf } from '../mapping.js';
import type { NativeSession } from '../session.js';

export function handlePublish(session: NativeSession, frame: PublishFrame): void {
  const core = session.core;
  if (!frame.confirm) {
    let firstError: unknown;
    for (const message of frame.messages) {
      try {
        core.publish(publishInputOf(message));
      } catch (error) {
        firstError ??= error;
      }
    }
    if (firstError !== undefined) session.replyError(frame.requestId, firstError);
    return;
  }
  const count = frame.messages.length;
  const results = new Array<PublishResult>(count);
  let remaining = count;
  if (count === 0) {
    session.send({ kind: 'publishAck', requestId: frame.requestId, results });
    return;
  }
  session.publishStarted(count);
  const settle = (index: number, result: PublishResult): void => {
    results[index] = result;
    if (--remaining === 0) {
      session.publishFinished(count);
      session.send({ kind: 'publishAck', requestId: frame.requestId, results });
    }
  };
  frame.messages.forEach((message, index) => {
    let confirmed: Promise<PublishAck>;
    try {
      confirmed = core.publishConfirmed(publishInputOf(message));
    } catch (error) {
      const weirError = weirErrorOf(error);
      settle(index, { ok: false, code: weirError.code, message: weirError.message });
      return;
    }
    confirmed.then(
      (ack) =>
        settle(index, {
          ok: true,
          stream: ack.stream,
          partition: ack.partition,
          offset: ack.offset,
          duplicate: ack.duplicate,
        }),
      (error: unknown) => {
        const weirError = weirErrorOf(error);
        settle(index, { ok: false, code: weirError.code, message: weirError.message });
      },
    );
  });
}
