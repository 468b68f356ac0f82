// Entry point of a STOMP load generator process.
import { runGeneratorProcess } from './generator-process.js';
import { StompPublisherDriver, StompSubscriberDriver } from './stomp-driver.js';

runGeneratorProcess({
  publisher: (config) => new StompPublisherDriver(config),
  subscriber: (config) => new StompSubscriberDriver(config),
});
