// CONNECT / STOMP (STOMP 1.2: "Connecting"): version negotiation, virtual host, login and
// passcode through the Authenticator, heart-beat negotiation, then CONNECTED.
import {
  supportedVersions,
  header,
  type HeaderEntry,
  type StompFrame,
  type StompVersion,
} from '../codec/index.js';
import { StompProtocolError } from '../errors.js';
import type { StompConnection } from '../session.js';

/** The best version both sides speak; a CONNECT without accept-version is 1.0. */
export function negotiateVersion(acceptVersion: string | undefined): StompVersion | undefined {
  if (acceptVersion === undefined) return '1.0';
  const offered = new Set(acceptVersion.split(',').map((version) => version.trim()));
  return supportedVersions.find((version) => offered.has(version));
}

/**
 * STOMP 1.2 "Heart-beating": the client sends `cx,cy` (it can send every cx ms, wants to
 * receive every cy ms); the server answers `sx,sy`. Each side sends every max(own, other's
 * wish) when both are non-zero.
 */
export function negotiateHeartBeat(
  value: string | undefined,
  serverIntervalMs: number,
): { sendMs: number; receiveMs: number; header: string } {
  const [clientSendMs, clientReceiveMs] = parseHeartBeat(value);
  const sendMs =
    clientReceiveMs === 0 || serverIntervalMs === 0 ? 0 : Math.max(serverIntervalMs, clientReceiveMs);
  const receiveMs =
    clientSendMs === 0 || serverIntervalMs === 0 ? 0 : Math.max(serverIntervalMs, clientSendMs);
  return { sendMs, receiveMs, header: `${serverIntervalMs},${serverIntervalMs}` };
}

function parseHeartBeat(value: string | undefined): [number, number] {
  if (value === undefined) return [0, 0];
  const match = /^\s*([0-9]{1,9})\s*,\s*([0-9]{1,9})\s*$/.exec(value);
  if (match === null)
    throw new StompProtocolError(`heart-beat '${value}' is not two comma-separated integers`);
  return [Number(match[1]), Number(match[2])];
}

export async function handleConnect(connection: StompConnection, frame: StompFrame): Promise<void> {
  const { settings } = connection.context;
  const version = negotiateVersion(header(frame, 'accept-version'));
  if (version === undefined) {
    // STOMP 1.2: the server answers with ERROR and a `version` header listing what it speaks.
    connection.fail(
      new StompProtocolError(
        `Supported protocol versions are ${supportedVersions.join(' ')}; the client accepts ${header(frame, 'accept-version') ?? ''}`,
      ),
      frame,
      [['version', supportedVersions.join(',')]],
    );
    return;
  }
  const host = header(frame, 'host');
  if (host !== undefined && settings.virtualHosts !== undefined && !settings.virtualHosts.includes(host)) {
    throw new StompProtocolError(`unknown virtual host '${host}'`);
  }
  const heartBeat = negotiateHeartBeat(header(frame, 'heart-beat'), settings.heartBeatIntervalMs);
  const login = header(frame, 'login');
  const passcode = header(frame, 'passcode');
  const principal = await connection.context.authenticator.authenticate({
    protocol: 'stomp',
    username: login === '' ? undefined : login,
    password: passcode,
    remoteAddress: connection.info.remoteAddress,
    loopback: connection.info.loopback,
  });
  connection.principal = principal;
  const clientId = header(frame, 'client-id');
  connection.clientId = clientId;
  const session = connection.context.core.openSession({
    principal,
    ...(clientId !== undefined ? { clientId } : {}),
  });
  const headers: HeaderEntry[] = [
    ['version', version],
    ['heart-beat', heartBeat.header],
    ['server', settings.serverName],
    ['session', connection.id],
  ];
  connection.logger.debug('connected', { version, user: principal.name });
  connection.establish(session, version, heartBeat, headers);
}
