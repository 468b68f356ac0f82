// A live-only broker core for adapter tests that need no streams: publish and
// publishConfirmed route through the real LiveRouter; attach and fetch are not supported.
// With it, the memory DurableState below keeps retained messages and session records.

import { SystemClock } from '../../src/common/clock.js';
import { ErrorCode, WeirError } from '../../src/common/errors.js';
import type { CoreSession, Message, PublishInput } from '../../src/core/api.js';
import { LiveRouter } from '../../src/core/live-router.js';
import { createMessage } from '../../src/core/message.js';
import type { ProtocolCore } from '../../src/core/protocol-server.js';
import type { ConsumerRef, DurableState, SessionRecord } from '../../src/protocols/mqtt/durable-state.js';

export function createLiveCore(): ProtocolCore & { router: LiveRouter; published: Message[] } {
  const clock = new SystemClock();
  const router = new LiveRouter({ clock, bufferMessagesMaxDefault: 10_000 });
  const published: Message[] = [];
  let nextSession = 0;
  return {
    router,
    published,
    openSession(): CoreSession {
      const id = `s${nextSession++}`;
      const publish = (input: PublishInput): Message => {
        const message = createMessage(input, clock.nowMs());
        published.push(message);
        router.publish(message, id);
        return message;
      };
      return {
        id,
        publish(input) {
          publish(input);
        },
        publishConfirmed(input) {
          publish(input);
          return Promise.reject(new WeirError(ErrorCode.NoStream, `no stream captures ${input.subject}`));
        },
        attach() {
          throw new WeirError(ErrorCode.NotSupported, 'the live core has no streams');
        },
        fetch() {
          return Promise.reject(new WeirError(ErrorCode.NotSupported, 'the live core has no streams'));
        },
        ack() {},
        nack() {},
        term() {},
        subscribeLive(filter, options) {
          return router.subscribe(id, filter, options);
        },
        close() {
          router.closeSession(id);
          return Promise.resolve();
        },
      } as CoreSession;
    },
  };
}

export class MemoryDurableState implements DurableState {
  readonly retained = new Map<string, Message>();
  readonly sessions = new Map<string, SessionRecord>();

  load(): Promise<{ retained: Message[]; sessions: SessionRecord[] }> {
    return Promise.resolve({ retained: [...this.retained.values()], sessions: [...this.sessions.values()] });
  }

  retain(input: PublishInput): Promise<void> {
    const message = createMessage(input, Date.now());
    if (message.body.length === 0) this.retained.delete(message.subject);
    else this.retained.set(message.subject, message);
    return Promise.resolve();
  }

  saveSession(record: SessionRecord): Promise<void> {
    this.sessions.set(record.clientId, record);
    return Promise.resolve();
  }

  deleteSession(clientId: string): Promise<void> {
    this.sessions.delete(clientId);
    return Promise.resolve();
  }

  consumersFor(): Promise<ConsumerRef[]> {
    return Promise.reject(new WeirError(ErrorCode.NotSupported, 'no durable consumers without streams'));
  }

  deleteConsumers(): Promise<void> {
    return Promise.resolve();
  }
}
