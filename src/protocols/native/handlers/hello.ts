// HELLO: version negotiation and authentication through the server's Authenticator.

import { ErrorCode, WeirError } from '../../../common/errors.js';
import { NativeLimits } from '../../../common/limits.js';
import type { HelloFrame } from '../codec/index.js';
import { ProtocolVersion } from '../codec/index.js';
import type { NativeSession } from '../session.js';

export function handleHello(session: NativeSession, frame: HelloFrame): void {
  if (session.state !== 'handshake') {
    session.fail(new WeirError(ErrorCode.ProtocolError, 'HELLO may be sent once, as the first frame'));
    return;
  }
  const version = Math.min(frame.versionMax, ProtocolVersion.max);
  if (version < Math.max(frame.versionMin, ProtocolVersion.min)) {
    session.fail(
      new WeirError(
        ErrorCode.NotSupported,
        `protocol versions ${frame.versionMin}–${frame.versionMax} offered; this broker speaks ${ProtocolVersion.min}–${ProtocolVersion.max}`,
      ),
    );
    return;
  }
  const heartbeatMs =
    frame.heartbeatMs === 0 ? 0 : Math.min(Math.max(frame.heartbeatMs, 100), NativeLimits.heartbeatMsMax);
  session.beginAuthentication();
  session.context.authenticator
    .authenticate({
      protocol: 'native',
      username: frame.username,
      password: frame.password,
      remoteAddress: session.info.remoteAddress,
      loopback: session.info.loopback,
    })
    .then(
      (principal) => session.open(principal, frame.clientName, version, heartbeatMs, frame.frameBytesMax),
      (error: unknown) => session.fail(error),
    );
}
