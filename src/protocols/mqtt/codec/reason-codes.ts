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
