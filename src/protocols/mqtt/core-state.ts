// DurableState on the core's streams and consumers. Filled in once BrokerCore's stream and
// consumer administration is in this build; until then it refuses plainly.

import { ErrorCode, WeirError } from '../../common/errors.js';
import type { ProtocolCore } from '../../core/protocol-server.js';
import type { DurableState } from './durable-state.js';
import type { MqttOptions } from './options.js';

export function createCoreState(_core: ProtocolCore, _options: MqttOptions): DurableState {
  throw new WeirError(ErrorCode.NotSupported, 'MQTT durable state needs the broker core');
}
