import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, isWeirError } from '../../common/errors.js';
import { MqttLimits } from '../../common/limits.js';
import { mqttOptionDefaults, parseMqttOptions } from './options.js';

const invalid = (error: unknown): boolean => isWeirError(error, ErrorCode.InvalidArgument);

test('defaults come from MqttLimits; overrides and configuration apply in that order', () => {
  assert.equal(mqttOptionDefaults.receiveMaximum, MqttLimits.receiveMaximumDefault);
  assert.equal(mqttOptionDefaults.queueBytesMax, MqttLimits.queueBytesDefault);
  const options = parseMqttOptions({ inflightMax: 10 }, { inflightMax: 5, subscriptionsMax: 7 });
  assert.equal(options.inflightMax, 10);
  assert.equal(options.subscriptionsMax, 7);
});

test('each bound is enforced, named in the error', () => {
  assert.equal(parseMqttOptions({ receiveMaximum: MqttLimits.receiveMaximumMax }).receiveMaximum, 65_535);
  assert.throws(() => parseMqttOptions({ receiveMaximum: MqttLimits.receiveMaximumMax + 1 }), invalid);
  assert.throws(() => parseMqttOptions({ packetBytesMax: MqttLimits.packetBytesMin - 1 }), invalid);
  assert.throws(() => parseMqttOptions({ queueBytesMax: MqttLimits.queueBytesMin - 1 }), /queueBytesMax/);
  assert.throws(() => parseMqttOptions({ keepAliveMaxS: MqttLimits.keepAliveMaxS + 1 }), /keepAliveMaxS/);
  assert.throws(() => parseMqttOptions({ allowEmptyClientId: 'yes' }), invalid);
  assert.throws(() => parseMqttOptions({ unknownOption: 1 }), /not a known MQTT option/);
});
