// The client commands of `weir`: pub, sub, request, stream, consumer, dlq and bench. Each
// parses its arguments into a typed request here and runs it through the network client
// (client-actions.ts) against a running broker.

import { Command, Option } from 'commander';
import * as actions from './client-actions.js';
import {
  byteSizeArgument,
  deliverPolicyArgument,
  fsyncArgument,
  headerArgument,
  integerArgument,
  ratioArgument,
  listArgument,
} from './parse.js';

/** Options every client command takes: where the broker is and who we are. */
function withConnection(command: Command): Command {
  return command
    .addOption(
      new Option('-s, --server <url>', 'broker address, host:port or weir://host:port')
        .env('WEIR_SERVER')
        .default('127.0.0.1:4222'),
    )
    .addOption(new Option('--user <name>', 'user name (default: anonymous)').env('WEIR_USER'))
    .addOption(new Option('--password <password>', 'password').env('WEIR_PASSWORD'));
}

function pubCommand(): Command {
  return withConnection(new Command('pub'))
    .description('publish a message; the body is read from standard input when not given or "-"')
    .argument('<subject>', 'subject, e.g. orders.eu.created')
    .argument('[body]', 'message body')
    .option('-n, --count <n>', 'publish the message n times', integerArgument(1), 1)
    .option('--confirm', 'wait until the broker has stored each message durably', false)
    .option('-H, --header <key=value>', 'a header (repeatable)', headerArgument)
    .option('--key <key>', 'message key (partitioning, key_shared dispatch)')
    .option('--reply-to <subject>', 'reply-to subject')
    .option('--correlation-id <id>', 'correlation id')
    .option('--content-type <type>', 'content type of the body')
    .option('--priority <0-9>', 'priority', integerArgument(0, 9))
    .option('--ttl-ms <ms>', 'expire the message after this long', integerArgument(1))
    .option('--delay-ms <ms>', 'deliver no sooner than this', integerArgument(1))
    .action(actions.publish);
}

function subCommand(): Command {
  return withConnection(new Command('sub'))
    .description('print messages on a subject, or from a durable consumer with --stream and --consumer')
    .argument('[subject]', 'subject filter (* one token, > the rest); live, not durable')
    .option('--stream <name>', 'read from this stream (with --consumer)')
    .option('--consumer <name>', 'attach to this consumer of --stream and ack what is printed')
    .option('--queue-group <group>', 'share live messages with other members of the group')
    .option('-n, --count <n>', 'exit after n messages', integerArgument(1))
    .addOption(
      new Option('--output <format>', 'how to print each message')
        .choices(['text', 'json', 'body'])
        .default('text'),
    )
    .action(actions.subscribe);
}

function requestCommand(): Command {
  return withConnection(new Command('request'))
    .description('send a request and print the reply')
    .argument('<subject>', 'subject a responder listens on')
    .argument('[body]', 'request body (standard input when not given or "-")')
    .option('--timeout-ms <ms>', 'how long to wait for the reply', integerArgument(1), 5000)
    .option('-H, --header <key=value>', 'a header (repeatable)', headerArgument)
    .action(actions.request);
}

function streamCommand(): Command {
  const stream = new Command('stream').description('administer streams');
  stream.addCommand(withConnection(new Command('ls')).description('list streams').action(actions.streamList));
  stream.addCommand(
    withConnection(new Command('info'))
      .description("show a stream's configuration and state")
      .argument('<name>')
      .action(actions.streamInfo),
  );
  stream.addCommand(
    withConnection(new Command('add'))
      .description('create a stream')
      .argument('<name>')
      .option(
        '--subjects <filters>',
        'comma-separated subject filters captured (default: the name)',
        listArgument,
      )
      .addOption(
        new Option('--retention <policy>', 'retention').choices([
          'limits',
          'interest',
          'workqueue',
          'compact',
        ]),
      )
      .addOption(new Option('--storage <kind>', 'storage').choices(['file', 'memory']))
      .addOption(
        new Option('--discard <policy>', 'when full, discard old messages or refuse new').choices([
          'old',
          'new',
        ]),
      )
      .option('--max-age-ms <ms>', 'keep messages at most this long', integerArgument(1))
      .option('--max-bytes <size>', 'keep at most this many bytes', byteSizeArgument)
      .option('--max-messages <n>', 'keep at most this many messages', integerArgument(1))
      .option('--partitions <n>', 'partitions (by key hash)', integerArgument(1, 1024))
      .option('--fsync <policy>', 'always, never or interval:<ms>', fsyncArgument)
      .option('--dead-letter-subject <subject>', 'where dead letters go (default $DLQ.<name>)')
      .option(
        '--tombstone-retention-ms <ms>',
        'retention compact: how long a deletion (empty body) stays',
        integerArgument(0),
      )
      .option(
        '--compaction-dirty-ratio <0-1>',
        'retention compact: compact once this share of sealed bytes is not compacted yet',
        ratioArgument,
      )
      .option(
        '--compaction-interval-ms <ms>',
        'retention compact: how often the dirty ratio is checked',
        integerArgument(1),
      )
      .action(actions.streamAdd),
  );
  stream.addCommand(
    withConnection(new Command('rm'))
      .description('delete a stream and its messages')
      .argument('<name>')
      .action(actions.streamRemove),
  );
  return stream;
}

function consumerCommand(): Command {
  const consumer = new Command('consumer').description('administer consumers');
  consumer.addCommand(
    withConnection(new Command('ls'))
      .description("list a stream's consumers")
      .argument('<stream>')
      .action(actions.consumerList),
  );
  consumer.addCommand(
    withConnection(new Command('info'))
      .description("show a consumer's configuration and state")
      .argument('<stream>')
      .argument('<name>')
      .action(actions.consumerInfo),
  );
  consumer.addCommand(
    withConnection(new Command('add'))
      .description('create a consumer on a stream')
      .argument('<stream>')
      .argument('<name>')
      .option('--filter <subject>', 'only messages on subjects matching this filter')
      .option(
        '--deliver <policy>',
        'all, new, last, last_per_subject, offset:<n>, time:<date>',
        deliverPolicyArgument,
      )
      .addOption(new Option('--ack <policy>', 'ack policy').choices(['none', 'explicit']))
      .option('--ack-wait-ms <ms>', 'redeliver a message not acked within this long', integerArgument(1))
      .option('--max-deliver <n>', 'deliveries before dead-lettering; -1 for unlimited', integerArgument(-1))
      .option('--backoff-ms <delays>', 'comma-separated redelivery delays', listArgument)
      .option('--max-ack-pending <n>', 'unacked messages before delivery pauses', integerArgument(1))
      .addOption(
        new Option('--dispatch <mode>', 'dispatch').choices([
          'exclusive',
          'failover',
          'shared',
          'key_shared',
        ]),
      )
      .option('--ephemeral', 'not durable: deleted when its last client leaves', false)
      .action(actions.consumerAdd),
  );
  consumer.addCommand(
    withConnection(new Command('rm'))
      .description('delete a consumer')
      .argument('<stream>')
      .argument('<name>')
      .action(actions.consumerRemove),
  );
  return consumer;
}

function dlqCommand(): Command {
  const dlq = new Command('dlq').description('dead-letter queues');
  dlq.addCommand(
    withConnection(new Command('ls'))
      .description('list dead letters of a stream (or list dead-letter streams when none is given)')
      .argument('[stream]')
      .option('-n, --limit <n>', 'show at most n dead letters', integerArgument(1), 100)
      .action(actions.deadLetterList),
  );
  dlq.addCommand(
    withConnection(new Command('redrive'))
      .description("republish a stream's dead letters to their original subjects")
      .argument('<stream>')
      .option('-n, --limit <n>', 'redrive at most n dead letters', integerArgument(1))
      .action(actions.deadLetterRedrive),
  );
  return dlq;
}

function benchCommand(): Command {
  return withConnection(new Command('bench'))
    .description('measure publish and delivery throughput against a running broker')
    .option('--subject <subject>', 'subject to publish on', 'bench.weir')
    .option('-n, --messages <n>', 'messages per producer', integerArgument(1), 100_000)
    .option('--size <bytes>', 'message body size (e.g. 100, 1k)', byteSizeArgument, 100)
    .option('--producers <n>', 'producer connections', integerArgument(0, 64), 1)
    .option('--consumers <n>', 'consumer connections', integerArgument(0, 64), 1)
    .option('--confirm', 'confirmed publishes (durable) through a stream', false)
    .option('--stream <name>', 'stream used with --confirm (created for the run, deleted after)', 'BENCH')
    .option('--fsync <policy>', 'fsync policy of the stream: always, never or interval:<ms>', fsyncArgument)
    .option('--no-progress', 'no progress bar')
    .action(actions.bench);
}

export function clientCommands(): Command[] {
  return [
    pubCommand(),
    subCommand(),
    requestCommand(),
    streamCommand(),
    consumerCommand(),
    dlqCommand(),
    benchCommand(),
  ];
}
