// The body of a load generator process (forked by the harness, talking over IPC): builds
// the publisher or the subscriber set from its configuration and runs it when told.
import type { FromGenerator, GeneratorConfig, ToGenerator } from './generator-messages.js';
import type { PublisherDriver, SubscriberDriver } from './protocol-driver.js';
import { Publisher } from './publisher.js';
import { SubscriberSet } from './subscriber.js';

export interface DriverFactory {
  publisher(config: GeneratorConfig): PublisherDriver;
  subscriber(config: GeneratorConfig, connection: number): SubscriberDriver;
}

function send(message: FromGenerator): void {
  process.send?.(message);
}

function fail(error: unknown): void {
  send({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
  // Give the IPC channel a moment to carry the message before exiting.
  setTimeout(() => process.exit(1), 100);
}

export function runGeneratorProcess(factory: DriverFactory): void {
  if (process.send === undefined) {
    console.error('a load generator runs as a child of the benchmark harness (child_process.fork)');
    process.exit(2);
  }
  let publisher: Publisher | undefined;
  let subscribers: SubscriberSet | undefined;
  let deferred = false;

  process.on('message', (raw) => {
    const message = raw as ToGenerator;
    void handle(message).catch(fail);
  });
  process.on('disconnect', () => process.exit(0));

  async function handle(message: ToGenerator): Promise<void> {
    switch (message.kind) {
      case 'configure': {
        const config = message.config;
        if (config.role === 'publisher') {
          const driver = factory.publisher(config);
          await driver.connect();
          publisher = new Publisher(driver, {
            streamCount: config.destinations.length,
            ratePerSecond: config.ratePerSecond,
            durationMs: config.durationMs,
            messageCount: config.messageCount,
            inflightMax: config.inflightMax,
          });
        } else {
          const drivers = Array.from({ length: config.connections }, (_unused, connection) =>
            factory.subscriber(config, connection),
          );
          subscribers = new SubscriberSet(drivers, config.destinations.length);
          deferred = config.deferConsume;
          // A deferred consumer registers its subscription (so the broker keeps messages
          // for it) and leaves; it comes back when the harness expects the messages.
          if (!deferred || config.persistentSession) {
            await subscribers.connect(false);
            if (deferred) await subscribers.disconnect();
          }
        }
        send({ kind: 'ready' });
        return;
      }
      case 'go': {
        if (publisher === undefined) throw new Error('go sent to a generator that is not a publisher');
        send({ kind: 'published', report: await publisher.run() });
        return;
      }
      case 'expect': {
        if (subscribers === undefined) throw new Error('expect sent to a generator that is not a subscriber');
        if (deferred) await subscribers.connect(true);
        const report = await subscribers.finish(
          message.confirmedPerStream,
          message.promise,
          message.idleTimeoutMs,
        );
        send({ kind: 'received', report });
        return;
      }
    }
  }
}
