// GOODBYE from a client: it is closing; release its session now rather than on socket close.

import type { GoodbyeFrame } from '../codec/index.js';
import type { NativeSession } from '../session.js';

export function handleGoodbye(session: NativeSession, frame: GoodbyeFrame): void {
  session.logger.debug('client said goodbye', { reason: frame.reason });
  void session.close();
}
