// MQTT reason codes. MQTT 5.0 §2.4 gives one table for every packet that carries a reason
// code; MQTT 3.1.1 has only the CONNACK return codes (§3.2.2.3) and the SUBACK failure code
// 0x80 (§3.9.3). Pure constants: the codec and the session both use them.

export const ReasonCode = {
  success: 0x00,
  normalDisconnection: 0x00,
  grantedQos0: 0x00,
  grantedQos1: 0x01,
  grantedQos2: 0x02,
  disconnectWithWillMessage: 0x04,
  noMatchingSubscribers: 0x10,
  noSubscriptionExisted: 0x11,
  continueAuthentication: 0x18,
  reAuthenticate: 0x19,
  unspecifiedError: 0x80,
  malformedPacket: 0x81,
  protocolError: 0x82,
  implementationSpecificError: 0x83,
  unsupportedProtocolVersion: 0x84,
  clientIdentifierNotValid: 0x85,
  badUserNameOrPassword: 0x86,
  notAuthorized: 0x87,
  serverUnavailable: 0x88,
  serverBusy: 0x89,
  banned: 0x8a,
  serverShuttingDown: 0x8b,
  badAuthenticationMethod: 0x8c,
  keepAliveTimeout: 0x8d,
  sessionTakenOver: 0x8e,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  packetIdentifierInUse: 0x91,
  packetIdentifierNotFound: 0x92,
  receiveMaximumExceeded: 0x93,
  topicAliasInvalid: 0x94,
  packetTooLarge: 0x95,
  messageRateTooHigh: 0x96,
  quotaExceeded: 0x97,
  administrativeAction: 0x98,
  payloadFormatInvalid: 0x99,
  retainNotSupported: 0x9a,
  qosNotSupported: 0x9b,
  useAnotherServer: 0x9c,
  serverMoved: 0x9d,
  sharedSubscriptionsNotSupported: 0x9e,
  connectionRateExceeded: 0x9f,
  maximumConnectTime: 0xa0,
  subscriptionIdentifiersNotSupported: 0xa1,
  wildcardSubscriptionsNotSupported: 0xa2,
} as const;

export type ReasonCode = (typeof ReasonCode)[keyof typeof ReasonCode];

/** MQTT 3.1.1 CONNACK return codes (§3.2.2.3). */
export const ConnectReturnCode = {
  accepted: 0x00,
  unacceptableProtocolVersion: 0x01,
  identifierRejected: 0x02,
  serverUnavailable: 0x03,
  badUserNameOrPassword: 0x04,
  notAuthorized: 0x05,
} as const;

export type ConnectReturnCode = (typeof ConnectReturnCode)[keyof typeof ConnectReturnCode];

/** The 3.1.1 CONNACK return code closest to a v5 CONNACK reason code. */
export function connectReturnCodeFor(reason: number): ConnectReturnCode {
  switch (reason) {
    case ReasonCode.success:
      return ConnectReturnCode.accepted;
    case ReasonCode.unsupportedProtocolVersion:
      return ConnectReturnCode.unacceptableProtocolVersion;
    case ReasonCode.clientIdentifierNotValid:
      return ConnectReturnCode.identifierRejected;
    case ReasonCode.badUserNameOrPassword:
      return ConnectReturnCode.badUserNameOrPassword;
    case ReasonCode.notAuthorized:
    case ReasonCode.banned:
    case ReasonCode.badAuthenticationMethod:
      return ConnectReturnCode.notAuthorized;
    default:
      return ConnectReturnCode.serverUnavailable;
  }
}

/** Reason codes of 0x80 and above are failures (MQTT 5.0 §2.4). */
export function isFailure(reason: number): boolean {
  return reason >= 0x80;
}

/** Reason codes each packet may carry (MQTT 5.0 §3.4.2.1, §3.5.2.1, §3.9.3, §3.14.2.1). */
const allowed = {
  puback: new Set([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]),
  suback: new Set([0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2]),
  disconnect: new Set([
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96,
    0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
  ]),
} as const;

/**
 * A reason code the packet kind may carry: the closest allowed one otherwise (a size limit
 * becomes Quota exceeded in PUBACK/PUBREC/SUBACK, anything else Unspecified error).
 */
export function reasonCodeForPacket(
  kind: 'puback' | 'pubrec' | 'suback' | 'disconnect',
  reason: number,
): number {
  const set = kind === 'pubrec' ? allowed.puback : allowed[kind];
  if (set.has(reason)) return reason;
  if (reason === ReasonCode.packetTooLarge && set.has(ReasonCode.quotaExceeded))
    return ReasonCode.quotaExceeded;
  return ReasonCode.unspecifiedError;
}
