// The native protocol codec: bytes ⇄ frames, pure (no I/O, no timers). Used by the server
// adapter (src/protocols/native/), the network client (src/client/) and, later, cluster
// replication. docs/protocol.md is the same specification with examples.
//
// Byte order is big-endian. `str16` is a u16 byte length then UTF-8; `str32` and `bytes32`
// a u32 length then the bytes; `f64` an IEEE-754 double (offsets and times are integers
// carried as f64, exact up to 2^53).
//
// Every frame:
//
//   offset  size  field
//   0       4     length: bytes after this field (so a frame is 4 + length bytes, at least 10)
//   4       1     type (table below)
//   5       1     flags (per type; unknown bits are ignored)
//   6       4     request id: 0 when no answer is expected; otherwise echoed by the answer
//   10      …     payload
//
// A frame whose 4 + length exceeds the receiver's frame limit is refused with ERROR
// WEIR_FRAME_TOO_LARGE and the connection is closed. A frame of an unknown or reserved
// type is skipped and answered with ERROR WEIR_NOT_SUPPORTED (not fatal).
//
//   type  name               dir  payload
//   0x01  HELLO              c→s  u32 magic "WEIR", u16 version min, u16 version max, str16 client name,
//                                 u8 bits (1 username, 2 password), [str16 username], [bytes32 password],
//                                 u32 heartbeat ms (0 off), u32 frame bytes max
//   0x02  WELCOME            s→c  u16 version, str16 server name, str16 session id, u32 heartbeat ms,
//                                 u32 frame bytes max
//   0x03  PING               both (empty); answered by PONG with the same request id
//   0x04  PONG               both (empty)
//   0x05  ERROR              both str16 code (a WeirError code), str32 message; flag 0x01 fatal: the
//                                 sender closes the connection after it. Request id 0 and not
//                                 fatal: an error about a frame that expected no answer.
//   0x06  OK                 s→c  (empty): success of a request that returns nothing
//   0x07  GOODBYE            both str32 reason: the sender is closing (server shutdown)
//   0x10  PUBLISH            c→s  u32 count, count × publish record (message-record.ts); flag 0x01
//                                 confirm: answer PUBLISH_ACK once every message is durable
//   0x11  PUBLISH_ACK        s→c  u32 count, count × (u8 status; 0: str16 stream, u32 partition,
//                                 f64 offset, u8 duplicate; 1: str16 code, str32 message), in order
//   0x20  ATTACH             c→s  u32 subscription id, str16 stream, str16 consumer, u32 credit,
//                                 u8 credit on ack → OK
//   0x21  DETACH             c→s  u32 subscription id → OK
//   0x22  CREDIT             c→s  u32 subscription id, u32 credit (adds to the window; no answer)
//   0x23  DELIVER            s→c  u32 subscription id, u32 count, count × delivery
//   0x24  SUBSCRIPTION_CLOSED s→c u32 subscription id, u8 has error, [str16 code, str32 message]
//   0x25  SUBSCRIBE_LIVE     c→s  u32 subscription id, str16 filter, u8 bits (1 queue group,
//                                 2 no local, 4 buffer max), [str16 queue group], [u32 buffer max],
//                                 u8 slow consumer policy (0 default, 1 drop oldest, 2 disconnect) → OK
//   0x26  LIVE_DELIVER       s→c  u32 subscription id, u32 count, count × message record
//   0x27  FETCH              c→s  str16 stream, str16 consumer, u32 batch, u32 expires ms → FETCH_RESULT
//   0x28  FETCH_RESULT       s→c  u32 count, count × delivery
//   0x30–0x3e administration c→s  str32 JSON request → ADMIN_RESULT (see AdminOperation in frames.ts):
//                                 0x30 stream create, 0x31 update, 0x32 delete, 0x33 info, 0x34 list,
//                                 0x35 purge, 0x36 consumer create, 0x37 delete, 0x38 info, 0x39 list,
//                                 0x3a dead-letter redrive,
//                                 0x3b stream find (which stream captures a subject),
//                                 0x3c queue ensure, 0x3d subscription ensure, 0x3e delete
//   0x3f  ADMIN_RESULT       s→c  str32 JSON result
//   0x40  TRANSACTION_BEGIN        reserved (a transaction is gathered by the client and sent whole)
//   0x41  TRANSACTION_COMMIT c→s  u32 timeout ms (0: the broker's default), u32 count, count × publish
//                                 record, u32 count, count × (str16 stream, str16 consumer, ack entry)
//                                 → PUBLISH_ACK once committed, or ERROR with nothing applied
//   0x42  TRANSACTION_ABORT        reserved
//   0x43  PRODUCER_INIT      c→s  str32 JSON { name? } → ADMIN_RESULT { producerId (decimal), epoch }
//   0x48  REQUEST            c→s  u32 timeout ms, publish record (its reply-to is set by the broker)
//                                 → RESPONSE, or ERROR WEIR_NO_RESPONDERS / WEIR_TIMEOUT
//   0x49  RESPONSE           s→c  message record: the first reply
//   0x4a  TEMPORARY_TOPIC_CREATE c→s str32 JSON {} → ADMIN_RESULT { subject }
//   0x4b  TEMPORARY_QUEUE_CREATE c→s str32 JSON {} → ADMIN_RESULT { subject, stream, consumer }
//   0x50  ACK                c→s  str16 stream, str16 consumer, u32 count, count × ack entry; flag
//                                 0x01 cumulative (exclusive and failover consumers)
//   0x51  NACK               c→s  str16 stream, str16 consumer, u32 count, count × (ack entry, u8 bits
//                                 (1 delay, 2 reason), [u32 delay ms], [str32 reason])
//   0x52  TERM               c→s  str16 stream, str16 consumer, u32 count, count × (ack entry, u8 bits
//                                 (1 reason), [str32 reason])
//
//   0x53  SETTLE_RESULT      s→c  u32 count, count × u8 outcome (0 acked, 1 duplicate, 2 stale), in order
//
//   delivery  = u32 partition, f64 offset, u32 delivery count, u8 redelivered, message record
//   ack entry = u32 partition, f64 offset, u32 delivery count
//
// ACK, NACK and TERM with a request id are answered SETTLE_RESULT (or ERROR); with request
// id 0 they are not answered unless they fail. An entry for an attempt that is not the
// current one (redelivered after its ack wait) is `stale`: rejected, counted, not applied.

export { BufferReader, protocolError } from './buffer-reader.js';
export { BufferWriter } from './buffer-writer.js';
export { decodeFrame } from './decode.js';
export { encodeFrame } from './encode.js';
export { FrameDecoder } from './frame-decoder.js';
export type {
  AckEntry,
  AckFrame,
  AdminFrame,
  AdminResultFrame,
  AttachFrame,
  CreditFrame,
  DeliverFrame,
  DetachFrame,
  ErrorFrame,
  FetchFrame,
  FetchResultFrame,
  Frame,
  FrameKind,
  GoodbyeFrame,
  HelloFrame,
  LiveDeliverFrame,
  NackEntry,
  NackFrame,
  OkFrame,
  PingFrame,
  PongFrame,
  PublishAckFrame,
  PublishFrame,
  PublishResult,
  RequestFrame,
  ResponseFrame,
  SettleOutcome,
  SettleResultFrame,
  SubscribeLiveFrame,
  SubscriptionClosedFrame,
  TermEntry,
  TermFrame,
  TransactionAck,
  TransactionFrame,
  UnsupportedFrame,
  WelcomeFrame,
  WireDelivery,
  WireSlowConsumerPolicy,
} from './frames.js';
export {
  AdminOperation,
  FrameFlags,
  FrameType,
  ProtocolVersion,
  SettleOutcomeCode,
  SlowConsumerCode,
  frameHeaderBytes,
  helloMagic,
} from './frames.js';
export type {
  WireHeaderValue,
  WireHeaders,
  WireMessage,
  WireProducerStamp,
  WirePublish,
} from './message-record.js';
export {
  HeaderKind,
  MessageBits,
  readMessageRecord,
  readPublishRecord,
  writeMessageRecord,
  writePublishRecord,
} from './message-record.js';
