// Weir itself, started as a separate process like every peer: `weir serve` from this
// build. Until a protocol adapter exists in the build, the report shows that instead of
// figures.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GeneratorProtocol } from '../generator-messages.js';
import type { SystemDefinition } from '../system.js';

const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function adapterBuilt(protocol: GeneratorProtocol): boolean {
  return existsSync(path.join(distRoot, 'src', 'protocols', protocol));
}

export const weir: SystemDefinition = {
  name: 'weir',
  protocols: ['mqtt', 'stomp'],
  unavailableReason: () =>
    adapterBuilt('mqtt') || adapterBuilt('stomp')
      ? undefined
      : 'adapter not available yet (no MQTT or STOMP adapter in this build)',
  start() {
    return Promise.reject(new Error('weir: adapter not available yet'));
  },
};
