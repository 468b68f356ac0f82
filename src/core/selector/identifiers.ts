// What a selector identifier reads from a message. JMS header fields map onto Weir's system
// fields (JMS 2.0 §3.8.1.1 allows JMSDeliveryMode, JMSPriority, JMSMessageID,
// JMSTimestamp, JMSCorrelationID and JMSType; Weir adds JMSExpiration and JMSDeliveryTime);
// every other identifier names a header, case-sensitively.
//
// | identifier        | value                                                         |
// | ----------------- | ------------------------------------------------------------- |
// | JMSPriority       | priority, 0–9                                                 |
// | JMSTimestamp      | timestampMs                                                   |
// | JMSMessageID      | id                                                            |
// | JMSCorrelationID  | correlationId, or NULL                                        |
// | JMSType           | a string `JMSType` header if present, else contentType or NULL |
// | JMSDeliveryMode   | 'PERSISTENT' or 'NON_PERSISTENT'                              |
// | JMSExpiration     | expiresAtMs, or 0 when the message does not expire (as JMS)   |
// | JMSDeliveryTime   | deliverAfterMs, or timestampMs when not delayed (as JMS)      |
// | anything else     | the header of that name; NULL when absent or a Buffer         |
//
// A Buffer header has no selector type (JMS properties have none for bytes), so it reads as
// NULL, like an absent one.

import type { Message } from '../api.js';
import type { SelectorValue } from './ast.js';

export type FieldReader = (message: Message) => SelectorValue;

function headerValue(message: Message, name: string): SelectorValue {
  const headers = message.headers;
  if (!Object.hasOwn(headers, name)) return null;
  const value = headers[name];
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return null;
}

export function fieldReader(name: string): FieldReader {
  switch (name) {
    case 'JMSPriority':
      return (message) => message.priority;
    case 'JMSTimestamp':
      return (message) => message.timestampMs;
    case 'JMSMessageID':
      return (message) => message.id;
    case 'JMSCorrelationID':
      return (message) => message.correlationId ?? null;
    case 'JMSType':
      return (message) => {
        const value = headerValue(message, 'JMSType');
        return typeof value === 'string' ? value : (message.contentType ?? null);
      };
    case 'JMSDeliveryMode':
      return (message) => (message.persistent ? 'PERSISTENT' : 'NON_PERSISTENT');
    case 'JMSExpiration':
      return (message) => message.expiresAtMs ?? 0;
    case 'JMSDeliveryTime':
      return (message) => message.deliverAfterMs ?? message.timestampMs;
    default:
      return (message) => headerValue(message, name);
  }
}
