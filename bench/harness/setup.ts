// `bench/setup` (or `npm run bench -- setup`): installs the peers the harness compares Weir
// with, on demand and idempotently, and says what it installed and which versions are there.
// Debian packages go through apt-get under /tmp/apt.lock, shared with other users of apt on
// the machine; Aedes is an npm devDependency of the project.
import { execFileSync, spawnSync } from 'node:child_process';
import { commandOutputLine, debianPackageVersion, npmPackageVersion } from './package-version.js';

interface DebianPeer {
  readonly peer: string;
  readonly packageName: string;
  /** Files the harness needs from the package, checked after installing. */
  readonly needs: readonly string[];
}

export const debianPeers: readonly DebianPeer[] = [
  { peer: 'mosquitto', packageName: 'mosquitto', needs: ['/usr/sbin/mosquitto'] },
  {
    peer: 'rabbitmq (with rabbitmq_stomp and rabbitmq_mqtt)',
    packageName: 'rabbitmq-server',
    needs: ['/usr/lib/rabbitmq/bin/rabbitmq-server', '/usr/bin/epmd'],
  },
  {
    peer: 'activemq',
    packageName: 'activemq',
    needs: ['/usr/share/activemq/bin/activemq.jar', '/usr/bin/java'],
  },
  { peer: 'nats (JetStream)', packageName: 'nats-server', needs: ['/usr/sbin/nats-server'] },
];

function say(line: string): void {
  process.stderr.write(`[setup] ${line}\n`);
}

function aptGet(args: readonly string[]): boolean {
  const result = spawnSync('flock', ['/tmp/apt.lock', 'apt-get', ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return result.status === 0;
}

function hasCandidate(packageName: string): boolean {
  try {
    const policy = execFileSync('apt-cache', ['policy', packageName], { encoding: 'utf8' });
    return /Candidate: (?!\(none\))/.test(policy);
  } catch {
    return false;
  }
}

/** RabbitMQ plugins are enabled per broker instance by the harness; here we check they ship. */
function rabbitmqPluginsPresent(): boolean {
  try {
    const listing = execFileSync('sh', ['-c', 'ls /usr/lib/rabbitmq/lib/*/plugins'], { encoding: 'utf8' });
    return /rabbitmq_stomp-/.test(listing) && /rabbitmq_mqtt-/.test(listing);
  } catch {
    return false;
  }
}

function aedesVersion(): string | undefined {
  return npmPackageVersion('aedes');
}

export async function runSetup(): Promise<number> {
  const missing = debianPeers.filter((peer) => debianPackageVersion(peer.packageName) === undefined);
  let failed = false;
  if (missing.length === 0) {
    say('every Debian peer is already installed');
  } else {
    const names = missing.map((peer) => peer.packageName);
    if (!names.every(hasCandidate)) {
      say('updating the package lists');
      aptGet(['update']);
    }
    say(`installing ${names.join(' ')}`);
    if (!aptGet(['install', '-y', '--no-install-recommends', ...names])) {
      say('apt-get install failed');
      failed = true;
    }
  }
  for (const peer of debianPeers) {
    const version = debianPackageVersion(peer.packageName);
    const installedNow = missing.includes(peer);
    const absent = peer.needs.filter((file) => spawnSync('test', ['-e', file]).status !== 0);
    if (version === undefined || absent.length > 0) {
      failed = true;
      say(
        `${peer.peer}: NOT available (${version === undefined ? 'package missing' : `missing ${absent.join(', ')}`})`,
      );
      continue;
    }
    say(
      `${peer.peer}: ${peer.packageName} ${version}${installedNow ? ' (installed now)' : ' (already installed)'}`,
    );
  }
  if (debianPackageVersion('rabbitmq-server') !== undefined && !rabbitmqPluginsPresent()) {
    failed = true;
    say('rabbitmq: the rabbitmq_stomp or rabbitmq_mqtt plugin is missing from the package');
  }
  const java = commandOutputLine('java', ['-version'], /version "[^"]+"/);
  if (java !== undefined) say(`java: ${java}`);
  let aedes = aedesVersion();
  if (aedes === undefined) {
    say('aedes: installing the npm devDependency');
    const result = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--save-dev', 'aedes'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    aedes = result.status === 0 ? aedesVersion() : undefined;
  }
  if (aedes === undefined) {
    failed = true;
    say('aedes: NOT available');
  } else {
    say(`aedes: ${aedes} (npm)`);
  }
  return failed ? 1 : 0;
}
