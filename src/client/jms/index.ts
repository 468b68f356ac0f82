// weir/client/jms: a JMS-style API over the Weir network client. Exports are listed by name.
export { AcknowledgeMode, DeliveryMode } from './constants.js';
export { Connection, ConnectionFactory } from './connection.js';
export type { ConnectionFactoryOptions, ExceptionListener } from './connection.js';
export { MessageConsumer } from './consumer.js';
export type { MessageListener } from './consumer.js';
export type { Destination, Queue, TemporaryQueue, TemporaryTopic, Topic } from './destinations.js';
export { BytesMessage, MapMessage, Message, ObjectMessage, StreamMessage, TextMessage } from './messages.js';
export type { MapValue, MessageType, PropertyValue } from './messages.js';
export { MessageProducer } from './producer.js';
export type { SendOptions } from './producer.js';
export { Session } from './session.js';
