// Apache ActiveMQ "Classic" (Debian package `activemq`), with STOMP and MQTT transport
// connectors. The JVM is started directly with a conf and data directory of the run's own
// (activemq.base/conf/data), the way the packaged start script does it.
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../free-port.js';
import { ManagedProcess } from '../managed-process.js';
import { debianPackageVersion } from '../package-version.js';
import { prefetchMessages, type SystemDefinition } from '../system.js';

const home = '/usr/share/activemq';
const launcher = path.join(home, 'bin', 'activemq.jar');
const startTimeoutMs = 60_000;
/**
 * Debian's activemq ships the MQTT transport without the MQTT codec it needs
 * (org.fusesource.mqtt, package libmqtt-client-java); the launcher also loads jars from
 * <activemq.base>/lib, so the run links it there.
 */
export const mqttCodecJar = '/usr/share/java/mqtt-client.jar';

// log4j 1.x, which the packaged broker logs through: warnings and errors to the log file.
const log4jProperties = `log4j.rootLogger=WARN, out
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=%d %-5p %c{1} - %m%n
`;

/** What a run changes in the broker's configuration. */
export interface ActiveMqTuning {
  /** The MQTT transport connector as well as STOMP's (when its codec is installed). */
  readonly mqtt: boolean;
  /** The STOMP transport: `stomp+nio` (selector threads) or `stomp` (a thread per connection). */
  readonly stompScheme: 'stomp' | 'stomp+nio';
  /** Further attributes of the <broker> element, e.g. `advisorySupport="false"`. */
  readonly brokerAttributes: string;
  /** What they change from the packaged defaults, and why, for the report. */
  readonly settings: readonly string[];
}

const harnessTuning: ActiveMqTuning = {
  mqtt: true,
  stompScheme: 'stomp+nio',
  brokerAttributes: 'schedulePeriodForDestinationPurge="0"',
  settings: [`subscriber prefetch ${prefetchMessages} (activemq.prefetchSize)`],
};

/** ActiveMQ with its own conf and data directories, as `tuning` says. */
export function activemqSystem(tuning: ActiveMqTuning): SystemDefinition {
  return {
    name: 'activemq',
    protocols: tuning.mqtt ? ['mqtt', 'stomp'] : ['stomp'],
    unavailableReason: () =>
      existsSync(launcher) && existsSync('/usr/bin/java') ? undefined : 'not installed: run bench/setup',
    async start(directory) {
      const stompPort = await freePort();
      const mqttPort = await freePort();
      const conf = path.join(directory, 'conf');
      const data = path.join(directory, 'data');
      const temporary = path.join(directory, 'tmp');
      const lib = path.join(directory, 'lib');
      for (const folder of [conf, data, temporary, lib]) mkdirSync(folder, { recursive: true });
      writeFileSync(path.join(conf, 'log4j.properties'), log4jProperties);
      const mqtt = tuning.mqtt && existsSync(mqttCodecJar);
      if (mqtt) symlinkSync(mqttCodecJar, path.join(lib, 'mqtt-client.jar'));
      const configFile = path.join(conf, 'activemq.xml');
      writeFileSync(
        configFile,
        `<beans xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" useJmx="false" brokerName="weir-bench"
          dataDirectory="${data}" ${tuning.brokerAttributes}>
    <persistenceAdapter>
      <kahaDB directory="${data}/kahadb" journalDiskSyncStrategy="always"/>
    </persistenceAdapter>
    <systemUsage>
      <systemUsage>
        <storeUsage><storeUsage limit="100 gb"/></storeUsage>
        <tempUsage><tempUsage limit="50 gb"/></tempUsage>
      </systemUsage>
    </systemUsage>
    <transportConnectors>
      <transportConnector name="stomp" uri="${tuning.stompScheme}://127.0.0.1:${stompPort}"/>
      ${mqtt ? `<transportConnector name="mqtt" uri="mqtt+nio://127.0.0.1:${mqttPort}"/>` : ''}
    </transportConnectors>
  </broker>
</beans>
`,
      );
      const broker = ManagedProcess.spawn(
        'activemq',
        '/usr/bin/java',
        [
          // The heap of the packaged defaults (/usr/share/activemq/activemq-options).
          '-Xms512M',
          '-Xmx512M',
          '--add-opens',
          'java.base/java.lang=ALL-UNNAMED',
          `-Dactivemq.classpath=${conf}`,
          `-Dactivemq.home=${home}`,
          `-Dactivemq.base=${directory}`,
          `-Dactivemq.conf=${conf}`,
          `-Dactivemq.data=${data}`,
          `-Djava.io.tmpdir=${temporary}`,
          '-jar',
          launcher,
          'start',
          `xbean:file:${configFile}`,
        ],
        { cwd: directory, logFile: path.join(directory, 'activemq.log') },
      );
      await broker.waitUntilListening(mqtt ? [stompPort, mqttPort] : [stompPort], startTimeoutMs);
      return {
        name: 'activemq',
        version: debianPackageVersion('activemq')?.replace(/\+dfsg.*$/, '') ?? 'unknown',
        ports: mqtt ? { mqtt: mqttPort, stomp: stompPort } : { stomp: stompPort },
        durability: {
          stomp: {
            fsyncBeforeConfirm: true,
            description:
              '/queue: KahaDB, a persistent SEND with a receipt is journaled and fsynced before the RECEIPT; /topic (fan-out): non-durable subscribers, not stored',
          },
          ...(mqtt
            ? {
                mqtt: {
                  fsyncBeforeConfirm: false,
                  description:
                    'clean sessions: a QoS 1 message with no durable subscriber is not stored; persistent sessions (backlog) go to KahaDB',
                },
              }
            : {}),
        },
        settings: [
          'heap 512 MiB (packaged default)',
          'store limit raised to 100 GiB so a backlog is not refused by the default 100 GB/1 GB limits',
          ...(mqtt
            ? [
                'MQTT codec from libmqtt-client-java linked into its lib/ (Debian ships the transport without it)',
              ]
            : tuning.mqtt
              ? [`no MQTT: ${mqttCodecJar} is missing (run bench/setup)`]
              : []),
          `${tuning.stompScheme} transport for STOMP`,
          ...tuning.settings,
        ],
        username: undefined,
        password: undefined,
        stompSendHeaders: [['persistent', 'true']],
        stompSubscribeHeaders: [['activemq.prefetchSize', String(prefetchMessages)]],
        process: broker,
        stop: () => broker.stop(),
      };
    },
  };
}

/** ActiveMQ as the harness's own run configures it. */
export const activemq: SystemDefinition = activemqSystem(harnessTuning);
