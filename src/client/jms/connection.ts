// JMS Connection and ConnectionFactory over the network client. A connection delivers
// nothing to its consumers until start() (JMS 2.0 §6.1.4); stop() pauses delivery again.

import { ErrorCode, InvalidArgumentError, WeirError } from '../../common/errors.js';
import type { NetworkClient } from '../network-client.js';
import { connect } from '../network-client.js';
import type { ConnectOptions } from '../options.js';
import type { ConsumerTarget } from '../types.js';
import type { AcknowledgeMode } from './constants.js';
import { AcknowledgeMode as Modes } from './constants.js';
import { Session } from './session.js';

export type ExceptionListener = (error: unknown) => void;

export interface ConnectionFactoryOptions extends ConnectOptions {
  /** JMS client id: names unshared durable subscriptions. */
  readonly clientId?: string;
}

export class ConnectionFactory {
  readonly #options: ConnectionFactoryOptions;

  constructor(options: ConnectionFactoryOptions = {}) {
    this.#options = options;
  }

  async createConnection(user?: string, password?: string): Promise<Connection> {
    const { clientId, ...connectOptions } = this.#options;
    const client = await connect({
      ...connectOptions,
      ...(user !== undefined ? { user } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(clientId !== undefined && connectOptions.name === undefined ? { name: clientId } : {}),
    });
    return new Connection(client, clientId);
  }
}

export class Connection {
  readonly client: NetworkClient;
  #clientId: string | undefined;
  #started = false;
  #startWaiters: (() => void)[] = [];
  #closed = false;
  readonly #sessions = new Set<Session>();
  #exceptionListener: ExceptionListener | undefined;
  readonly #queuesKnown = new Map<string, ConsumerTarget>();
  readonly #topicStreamsKnown = new Map<string, string>();

  constructor(client: NetworkClient, clientId: string | undefined) {
    this.client = client;
    this.#clientId = clientId;
    client.on('error', (error: unknown) => this.reportException(error));
  }

  get clientId(): string | undefined {
    return this.#clientId;
  }

  /** JMS allows setting the client id once, before the connection is used. */
  setClientId(clientId: string): void {
    if (this.#clientId !== undefined)
      throw new WeirError(ErrorCode.InvalidArgument, 'the client id is already set');
    if (clientId === '') throw new InvalidArgumentError('the client id must not be empty');
    this.#clientId = clientId;
  }

  setExceptionListener(listener: ExceptionListener | undefined): void {
    this.#exceptionListener = listener;
  }

  /** Errors with no caller to throw to: listener failures, broker-side errors. */
  reportException(error: unknown): void {
    if (this.#exceptionListener !== undefined) this.#exceptionListener(error);
    else
      queueMicrotask(() => {
        // Never swallowed: without an exception listener it surfaces as an uncaught exception.
        throw error;
      });
  }

  get started(): boolean {
    return this.#started;
  }

  start(): void {
    this.#checkOpen();
    this.#started = true;
    for (const resolve of this.#startWaiters.splice(0)) resolve();
  }

  stop(): void {
    this.#checkOpen();
    this.#started = false;
  }

  whenStarted(): Promise<void> {
    if (this.#started || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#startWaiters.push(resolve));
  }

  createSession(transacted = false, acknowledgeMode: AcknowledgeMode = Modes.AUTO_ACKNOWLEDGE): Session {
    this.#checkOpen();
    if (!Object.values(Modes).includes(acknowledgeMode)) {
      throw new InvalidArgumentError(`unknown acknowledge mode ${String(acknowledgeMode)}`);
    }
    const session = new Session(this, acknowledgeMode, transacted);
    this.#sessions.add(session);
    return session;
  }

  /** @internal Called by Session.close. */
  sessionClosed(session: Session): void {
    this.#sessions.delete(session);
  }

  /**
   * Makes sure queue `name` exists (a workqueue stream and its shared consumer, named as for
   * every protocol), once per connection; returns where its messages are consumed.
   */
  async ensureQueue(name: string): Promise<ConsumerTarget> {
    const known = this.#queuesKnown.get(name);
    if (known !== undefined) return known;
    const { stream, consumer } = await this.client.createQueue(name);
    const target = { stream: stream.config.name, consumer: consumer.config.name };
    this.#queuesKnown.set(name, target);
    return target;
  }

  /** Makes sure the interest stream that holds durable subscriptions of topic `name` exists. */
  async ensureTopicStream(name: string): Promise<string> {
    const known = this.#topicStreamsKnown.get(name);
    if (known !== undefined) return known;
    const { stream } = await this.client.topicStream(name);
    this.#topicStreamsKnown.set(name, stream);
    return stream;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const resolve of this.#startWaiters.splice(0)) resolve();
    await Promise.all([...this.#sessions].map((session) => session.close()));
    await this.client.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new WeirError(ErrorCode.Closed, 'the connection is closed');
  }
}
