// JMS constants, numbered as JMS 2.0 numbers them (INDIVIDUAL as ActiveMQ does), so code
// ported from Java reads the same.

export const AcknowledgeMode = {
  /** Every message is acked once the listener returns or receive() hands it out. */
  AUTO_ACKNOWLEDGE: 1,
  /** message.acknowledge() acks every message the session has delivered so far. */
  CLIENT_ACKNOWLEDGE: 2,
  /** As AUTO, acked lazily in batches: duplicates are possible after a failure. */
  DUPS_OK_ACKNOWLEDGE: 3,
  /** message.acknowledge() acks that message only. */
  INDIVIDUAL_ACKNOWLEDGE: 4,
} as const;
export type AcknowledgeMode = (typeof AcknowledgeMode)[keyof typeof AcknowledgeMode];

export const DeliveryMode = {
  NON_PERSISTENT: 1,
  PERSISTENT: 2,
} as const;
export type DeliveryMode = (typeof DeliveryMode)[keyof typeof DeliveryMode];

export const defaultPriority = 4;

/** Header that says which JMS message type a message is; other protocols see an ordinary header. */
export const messageTypeHeader = 'jms-message-type';
/** Header carrying JMSType. */
export const jmsTypeHeader = 'jms-type';
/** Header saying whether JMSReplyTo names a queue or a topic. */
export const replyToKindHeader = 'jms-reply-to-kind';
