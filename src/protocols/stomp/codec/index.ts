// The pure STOMP codec: frames as values, an incremental parser and a serializer.
export { StompFrameError } from './errors.js';
export { escapeHeader, unescapeHeader } from './escape.js';
export {
  ClientCommand,
  ServerCommand,
  StompVersion,
  header,
  isClientCommand,
  isCommand,
  supportedVersions,
  type Command,
  type HeaderEntry,
  type StompFrame,
} from './frame.js';
export { StompParser, type ParseResult, type ParserLimits } from './parser.js';
export { encodeFrame, frameOf, heartBeatBytes } from './serializer.js';
