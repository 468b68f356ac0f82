// Apache ActiveMQ "Classic" (Debian package `activemq`), with STOMP and MQTT transport
// connectors. The JVM is started directly with a conf and data directory of the run's own
// (activemq.base/conf/data), the way the packaged start script does it.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from '../free-port.js';
import { ManagedProcess } from '../managed-process.js';
import { debianPackageVersion } from '../package-version.js';
import { prefetchMessages, type SystemDefinition } from '../system.js';

const home = '/usr/share/activemq';
const launcher = path.join(home, 'bin', 'activemq.jar');
const startTimeoutMs = 60_000;

export const activemq: SystemDefinition = {
  name: 'activemq',
  protocols: ['mqtt', 'stomp'],
  unavailableReason: () =>
    existsSync(launcher) && existsSync('/usr/bin/java') ? undefined : 'not installed: run bench/setup',
  async start(directory) {
    const stompPort = await freePort();
    const mqttPort = await freePort();
    const conf = path.join(directory, 'conf');
    const data = path.join(directory, 'data');
    const temporary = path.join(directory, 'tmp');
    for (const folder of [conf, data, temporary]) mkdirSync(folder, { recursive: true });
    const configFile = path.join(conf, 'activemq.xml');
    writeFileSync(
      configFile,
      `<beans xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" useJmx="false" brokerName="weir-bench"
          dataDirectory="${data}" schedulePeriodForDestinationPurge="0">
    <persistenceAdapter>
      <kahaDB directory="${data}/kahadb"/>
    </persistenceAdapter>
    <systemUsage>
      <systemUsage>
        <storeUsage><storeUsage limit="100 gb"/></storeUsage>
        <tempUsage><tempUsage limit="50 gb"/></tempUsage>
      </systemUsage>
    </systemUsage>
    <transportConnectors>
      <transportConnector name="stomp" uri="stomp+nio://127.0.0.1:${stompPort}"/>
      <transportConnector name="mqtt" uri="mqtt+nio://127.0.0.1:${mqttPort}"/>
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
    try {
      await waitForPort(stompPort, startTimeoutMs, () => broker.alive);
      await waitForPort(mqttPort, startTimeoutMs, () => broker.alive);
    } catch (error) {
      await broker.stop();
      throw new Error(`activemq did not start: ${(error as Error).message}\n${broker.logTail()}`);
    }
    return {
      name: 'activemq',
      version: debianPackageVersion('activemq')?.replace(/\+dfsg.*$/, '') ?? 'unknown',
      ports: { mqtt: mqttPort, stomp: stompPort },
      durability: {
        stomp: {
          fsyncBeforeConfirm: true,
          description: 'KahaDB; a persistent SEND with a receipt is journaled and fsynced before the RECEIPT',
        },
        mqtt: {
          fsyncBeforeConfirm: true,
          description: 'KahaDB; QoS 1 messages are persistent and fsynced before PUBACK',
        },
      },
      settings: [
        `heap 512 MiB (packaged default); subscriber prefetch ${prefetchMessages} (activemq.prefetchSize)`,
        'store limit raised to 100 GiB so a backlog is not refused by the default 100 GB/1 GB limits',
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
