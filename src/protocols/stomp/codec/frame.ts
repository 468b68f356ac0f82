// STOMP frames as values (STOMP 1.2 "STOMP Frames"):
//
//   COMMAND EOL
//   (header-name ":" header-value EOL)*
//   EOL
//   body NUL
//   (EOL)*            heart-beats and padding between frames
//
// EOL is LF, or CR LF in 1.2. Headers are kept in wire order, repeated names included;
// `header()` returns the first occurrence, which is the one that counts (STOMP 1.2:
// "Repeated Header Entries").

export const StompVersion = { v10: '1.0', v11: '1.1', v12: '1.2' } as const;
export type StompVersion = (typeof StompVersion)[keyof typeof StompVersion];

/** Versions this server speaks, best first. */
export const supportedVersions: readonly StompVersion[] = ['1.2', '1.1', '1.0'];

export const ClientCommand = {
  connect: 'CONNECT',
  stomp: 'STOMP',
  send: 'SEND',
  subscribe: 'SUBSCRIBE',
  unsubscribe: 'UNSUBSCRIBE',
  ack: 'ACK',
  nack: 'NACK',
  begin: 'BEGIN',
  commit: 'COMMIT',
  abort: 'ABORT',
  disconnect: 'DISCONNECT',
} as const;
export type ClientCommand = (typeof ClientCommand)[keyof typeof ClientCommand];

export const ServerCommand = {
  connected: 'CONNECTED',
  message: 'MESSAGE',
  receipt: 'RECEIPT',
  error: 'ERROR',
} as const;
export type ServerCommand = (typeof ServerCommand)[keyof typeof ServerCommand];

export type Command = ClientCommand | ServerCommand;

const commands = new Set<string>([...Object.values(ClientCommand), ...Object.values(ServerCommand)]);

export function isCommand(value: string): value is Command {
  return commands.has(value);
}

const clientCommands = new Set<string>(Object.values(ClientCommand));

export function isClientCommand(value: string): value is ClientCommand {
  return clientCommands.has(value);
}

export type HeaderEntry = readonly [name: string, value: string];

export interface StompFrame {
  readonly command: Command;
  readonly headers: readonly HeaderEntry[];
  readonly body: Buffer;
}

/** The first value of a header, as STOMP 1.2 says repeated entries resolve. */
export function header(frame: StompFrame, name: string): string | undefined {
  for (const [key, value] of frame.headers) if (key === name) return value;
  return undefined;
}

/** CONNECT, STOMP and CONNECTED are never escaped, so a 1.0 peer can read them (STOMP 1.2: "Value Encoding"). */
export function isEscapedCommand(command: Command): boolean {
  return command !== 'CONNECT' && command !== 'STOMP' && command !== 'CONNECTED';
}
