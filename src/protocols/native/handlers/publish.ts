// PUBLISH: a batch of messages. Fire-and-forget hands each to the core at once; confirmed
// answers one PUBLISH_ACK for the whole batch once every message is durable, with a result
// per message in order, so one bad message does not fail its neighbours.
//
// When the core refuses a message as overloaded (its append queue is full), the message is
// not dropped: the session stops reading the socket (TCP then pushes back on the producer)
// and the message is offered again after a short delay, with backoff, until the core takes
// it or the connection closes. A fire-and-forget frame also holds every later frame back, so
// a producer's messages keep their order.

import { ErrorCode, isWeirError } from '../../../common/errors.js';
import type { PublishAck } from '../../../core/api.js';
import type { PublishFrame, PublishResult, WirePublish } from '../codec/index.js';
import { publishInputOf, weirErrorOf } from '../mapping.js';
import type { NativeSession } from '../session.js';

const retryDelayMsMin = 1;
const retryDelayMsMax = 50;

function retryDelayMs(attempt: number): number {
  return Math.min(retryDelayMsMax, retryDelayMsMin * 2 ** Math.min(attempt, 6));
}

export function handlePublish(session: NativeSession, frame: PublishFrame): void {
  if (frame.confirm) publishConfirmed(session, frame);
  else publishFrom(session, frame, 0, 0, undefined);
}

function publishFrom(
  session: NativeSession,
  frame: PublishFrame,
  start: number,
  attempt: number,
  earlierError: unknown,
): void {
  let firstError = earlierError;
  const core = session.core;
  for (let index = start; index < frame.messages.length; index++) {
    try {
      core.publish(publishInputOf(frame.messages[index] as WirePublish));
    } catch (error) {
      if (isWeirError(error, ErrorCode.Overloaded) && session.state === 'open') {
        if (attempt === 0) session.block();
        session.context.clock.setTimeout(() => {
          if (session.state !== 'open') return;
          publishFrom(session, frame, index, attempt + 1, firstError);
        }, retryDelayMs(attempt));
        return;
      }
      firstError ??= error;
    }
  }
  if (attempt > 0) session.unblock();
  if (firstError !== undefined) session.replyError(frame.requestId, firstError);
}

function publishConfirmed(session: NativeSession, frame: PublishFrame): void {
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
  const fail = (index: number, error: unknown): void => {
    const weirError = weirErrorOf(error);
    settle(index, { ok: false, code: weirError.code, message: weirError.message });
  };
  // One callback per message and no promise: the batch's results fill in as fsyncs cover them.
  const offer = (index: number, attempt: number): void => {
    session.core.publishConfirmedThen(
      publishInputOf(frame.messages[index] as WirePublish),
      (error: Error | undefined, ack: PublishAck | undefined) => {
        if (error === undefined) {
          const stored = ack as PublishAck;
          settle(index, {
            ok: true,
            stream: stored.stream,
            partition: stored.partition,
            offset: stored.offset,
            duplicate: stored.duplicate,
          });
          return;
        }
        if (!isWeirError(error, ErrorCode.Overloaded) || session.state !== 'open') {
          fail(index, error);
          return;
        }
        session.publishRetryStarted();
        session.context.clock.setTimeout(() => {
          session.publishRetryFinished();
          if (session.state === 'open') offer(index, attempt + 1);
          else fail(index, error);
        }, retryDelayMs(attempt));
      },
    );
  };
  for (let index = 0; index < count; index++) offer(index, 0);
}
