// Entry point of an MQTT load generator process.
import { runGeneratorProcess } from './generator-process.js';
import { MqttPublisherDriver, MqttSubscriberDriver } from './mqtt-driver.js';

runGeneratorProcess({
  publisher: (config) => new MqttPublisherDriver(config),
  subscriber: (config, connection) => new MqttSubscriberDriver(config, `${config.clientId}-${connection}`),
});
