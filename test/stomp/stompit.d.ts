// The little of stompit's API these tests use (the package ships no types).
declare module 'stompit' {
  import type { Readable, Writable } from 'node:stream';

  export interface Message extends Readable {
    readonly headers: Record<string, string>;
    readString(encoding: string, callback: (error: Error | null, body?: string) => void): void;
  }
  export interface Client {
    send(headers: Record<string, string>, options?: { onReceipt?: () => void }): Writable;
    subscribe(
      headers: Record<string, string>,
      listener: (error: Error | null, message: Message) => void,
    ): { unsubscribe(): void };
    ack(message: Message): void;
    nack(message: Message): void;
    begin(headers?: Record<string, string>): {
      send(headers: Record<string, string>): Writable;
      commit(): void;
      abort(): void;
    };
    disconnect(callback?: (error: Error | null) => void): void;
    on(event: 'error', listener: (error: Error) => void): void;
    readonly headers: Record<string, string>;
  }
  export function connect(
    options: { host: string; port: number; connectHeaders: Record<string, string> },
    callback: (error: Error | null, client: Client) => void,
  ): void;
  const stompit: { connect: typeof connect };
  export default stompit;
}
