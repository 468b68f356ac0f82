// `weir serve`: resolve the configuration from its sources (flags > env > file > defaults),
// start the server, and shut it down gracefully on SIGTERM or SIGINT (exit 0 once the core
// has flushed; a second signal exits at once with 1).

import { Command, Option } from 'commander';
import { logLevels } from '../../common/logger.js';
import { accessRules } from '../../core/auth.js';
import { loadConfigFile, optionsFromEnv, optionsFromFlags } from '../config-sources.js';
import { defaultPorts, mergeOptions, type ServerOptionsInput } from '../options.js';
import { type ServerHandle, startServer } from '../server.js';

/** The merged raw configuration for `weir serve`, before parseOptions() validates it. */
export async function resolveServeOptions(
  flags: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv,
): Promise<ServerOptionsInput> {
  const configFile = typeof flags.config === 'string' ? flags.config : env.WEIR_CONFIG || undefined;
  const fromFile = configFile === undefined ? {} : await loadConfigFile(configFile);
  return mergeOptions(fromFile, optionsFromEnv(env), optionsFromFlags(flags));
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('start the broker')
    .option('-c, --config <file>', 'YAML or JSON configuration file (env WEIR_CONFIG)')
    .option('-d, --data-dir <dir>', 'data directory (env WEIR_DATA_DIR; default ./data)')
    .option('--host <address>', 'bind address of every listener (env WEIR_HOST; default 127.0.0.1)')
    .option(
      '--native-port <port>',
      `native protocol port, 0 for any (env WEIR_NATIVE_PORT; default ${defaultPorts.native})`,
    )
    .option('--mqtt-port <port>', `MQTT port (env WEIR_MQTT_PORT; default ${defaultPorts.mqtt})`)
    .option('--stomp-port <port>', `STOMP port (env WEIR_STOMP_PORT; default ${defaultPorts.stomp})`)
    .option('--amqp-port <port>', `AMQP 0-9-1 port (env WEIR_AMQP_PORT; default ${defaultPorts.amqp})`)
    .option(
      '--http-port <port>',
      `HTTP and WebSocket port (env WEIR_HTTP_PORT; default ${defaultPorts.http})`,
    )
    .option(
      '--disable <listeners>',
      'comma-separated listeners not to start: native, mqtt, stomp, amqp, http',
    )
    .option('--users-file <file>', 'users file with scrypt-hashed passwords (env WEIR_USERS_FILE)')
    .addOption(
      new Option('--guest <rule>', 'where user guest/guest may connect from (env WEIR_GUEST)').choices(
        accessRules,
      ),
    )
    .addOption(
      new Option(
        '--anonymous <rule>',
        'where clients without a username may connect from (env WEIR_ANONYMOUS)',
      ).choices(accessRules),
    )
    .addOption(
      new Option('--log-level <level>', 'log level (env WEIR_LOG_LEVEL; default info)').choices(logLevels),
    )
    .option('--ports-file <file>', 'write {"pid","ports"} as JSON here once listening (env WEIR_PORTS_FILE)')
    .option(
      '--shutdown-grace-ms <ms>',
      'how long shutdown waits for connections to close (env WEIR_SHUTDOWN_GRACE_MS)',
    )
    .action(async (flags: Record<string, unknown>) => {
      // Signals are taken from the start: one that arrives while the server is still
      // starting shuts it down as soon as it is up.
      let handle: ServerHandle | undefined;
      let signalled: NodeJS.Signals | undefined;
      const shutdown = (server: ServerHandle, signal: NodeJS.Signals): void => {
        server.logger.info('signal received: shutting down', { signal });
        server.close().then(
          () => {
            server.logger.info('shutdown complete');
            process.exit(0);
          },
          (error: unknown) => {
            server.logger.error('shutdown failed', { error: (error as Error).message });
            process.exit(1);
          },
        );
      };
      const onSignal = (signal: NodeJS.Signals): void => {
        if (signalled !== undefined) {
          handle?.logger.warn('second signal: exiting without finishing shutdown', { signal });
          process.exit(1);
        }
        signalled = signal;
        if (handle !== undefined) shutdown(handle, signal);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      try {
        handle = await startServer(await resolveServeOptions(flags, process.env));
      } catch (error) {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        throw error;
      }
      if (signalled !== undefined) shutdown(handle, signalled);
    });
}
