// FETCH: pull up to `batch` deliveries, waiting up to `expiresMs` for the first; answered
// with FETCH_RESULT (possibly empty).

import { ErrorCode, WeirError } from '../../../common/errors.js';
import { NativeLimits } from '../../../common/limits.js';
import type { FetchFrame } from '../codec/index.js';
import { wireDeliveryOf } from '../mapping.js';
import type { NativeSession } from '../session.js';

export function handleFetch(session: NativeSession, frame: FetchFrame): void {
  if (frame.batch < 1 || frame.batch > NativeLimits.batchMessagesMax) {
    throw new WeirError(ErrorCode.InvalidArgument, `fetch batch must be 1–${NativeLimits.batchMessagesMax}`);
  }
  session.core.fetch(frame.stream, frame.consumer, { batch: frame.batch, expiresMs: frame.expiresMs }).then(
    (deliveries) => {
      session.send({
        kind: 'fetchResult',
        requestId: frame.requestId,
        deliveries: deliveries.map(wireDeliveryOf),
      });
    },
    (error: unknown) => session.replyError(frame.requestId, error),
  );
}
