// What the client commands do, over the network client (src/client/network-client.ts)
// against a running broker. Results go to stdout (one line per message, a table, or a JSON
// document); errors are thrown as WeirErrors and printed by cli.ts.

import { randomUUID } from 'node:crypto';
import { connect, type NetworkClient } from '../../client/network-client.js';
import type { PublishOptions, ReceivedMessage, StreamInfo, Subscription } from '../../client/types.js';
import { InvalidArgumentError } from '../../common/errors.js';
import { deadLetterStreamName } from '../../core/dead-letter.js';
import { type BenchFlags, formatBenchResult, runBench } from './bench.js';
import { type ConnectionFlags, handedToSocket, withClient } from './client-connection.js';
import {
  type ConsumerAddFlags,
  consumerConfigFromFlags,
  headersFromFlags,
  type StreamAddFlags,
  streamConfigFromFlags,
} from './parse.js';

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function bodyOf(argument: string | undefined): Promise<Buffer> {
  if (argument === undefined || argument === '-') return readStdin();
  return Promise.resolve(Buffer.from(argument));
}

interface PublishFlags extends ConnectionFlags {
  readonly count: number;
  readonly confirm: boolean;
  readonly header?: Record<string, string>;
  readonly key?: string;
  readonly replyTo?: string;
  readonly correlationId?: string;
  readonly contentType?: string;
  readonly priority?: number;
  readonly ttlMs?: number;
  readonly delayMs?: number;
}

function publishOptions(flags: PublishFlags): PublishOptions {
  const options: { -readonly [K in keyof PublishOptions]: PublishOptions[K] } = {};
  if (flags.header !== undefined) options.headers = headersFromFlags(flags.header);
  if (flags.key !== undefined) options.key = flags.key;
  if (flags.replyTo !== undefined) options.replyTo = flags.replyTo;
  if (flags.correlationId !== undefined) options.correlationId = flags.correlationId;
  if (flags.contentType !== undefined) options.contentType = flags.contentType;
  if (flags.priority !== undefined) options.priority = flags.priority;
  if (flags.ttlMs !== undefined) options.ttlMs = flags.ttlMs;
  if (flags.delayMs !== undefined) options.delayMs = flags.delayMs;
  return options;
}

export async function publish(
  subject: string,
  bodyArgument: string | undefined,
  flags: PublishFlags,
): Promise<void> {
  const body = await bodyOf(bodyArgument);
  const options = publishOptions(flags);
  await withClient(flags, async (client) => {
    if (flags.confirm) {
      for (let index = 0; index < flags.count; index++) {
        const ack = await client.publishConfirmed(subject, body, options);
        if (flags.count === 1) {
          const duplicate = ack.duplicate ? ' (duplicate)' : '';
          console.log(
            `stored in ${ack.stream} partition ${ack.partition} at offset ${ack.offset}${duplicate}`,
          );
        }
      }
      if (flags.count > 1) console.log(`${flags.count} messages stored`);
      return;
    }
    for (let index = 0; index < flags.count; index++) {
      if (!client.publish(subject, body, options)) await client.drained();
    }
    await handedToSocket(client);
    console.log(`published ${flags.count} message${flags.count === 1 ? '' : 's'} to ${subject}`);
  });
}

export type OutputFormat = 'text' | 'json' | 'body';

function bodyText(body: Buffer): string {
  const text = body.toString('utf8');
  return Buffer.from(text, 'utf8').equals(body) ? text : `base64:${body.toString('base64')}`;
}

export function formatMessage(message: ReceivedMessage, format: OutputFormat): string {
  switch (format) {
    case 'body':
      return bodyText(message.body);
    case 'text': {
      const where = message.stream === undefined ? '' : ` ${message.stream}#${message.offset}`;
      const redelivered = message.redelivered ? ` (delivery ${message.deliveryCount})` : '';
      return `[${message.subject}${where}${redelivered}] ${bodyText(message.body)}`;
    }
    case 'json': {
      const headers = Object.fromEntries(
        Object.entries(message.headers).map(([key, value]) => [
          key,
          Buffer.isBuffer(value) ? `base64:${value.toString('base64')}` : value,
        ]),
      );
      return JSON.stringify({
        subject: message.subject,
        key: message.key,
        headers,
        body: bodyText(message.body),
        id: message.id,
        timestampMs: message.timestampMs,
        stream: message.stream,
        offset: message.offset,
        deliveryCount: message.deliveryCount,
        replyTo: message.replyTo,
        correlationId: message.correlationId,
      });
    }
  }
}

interface SubscribeFlags extends ConnectionFlags {
  readonly stream?: string;
  readonly consumer?: string;
  readonly queueGroup?: string;
  readonly count?: number;
  readonly output: OutputFormat;
}

/** Resolves on SIGINT or SIGTERM, so `weir sub` ends cleanly (acks sent, connection closed). */
function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export async function subscribe(subject: string | undefined, flags: SubscribeFlags): Promise<void> {
  const durable = flags.stream !== undefined || flags.consumer !== undefined;
  if (durable && (flags.stream === undefined || flags.consumer === undefined)) {
    throw new InvalidArgumentError('--stream and --consumer go together');
  }
  if (!durable && subject === undefined)
    throw new InvalidArgumentError('give a subject, or --stream and --consumer');
  if (durable && subject !== undefined) {
    throw new InvalidArgumentError('give either a subject or --stream and --consumer, not both');
  }
  await withClient(flags, async (client) => {
    if (flags.stream !== undefined && flags.consumer !== undefined && flags.count !== undefined) {
      // Exactly `count` messages: pull them, so none past the count is delivered and acked.
      await fetchCount(client, { stream: flags.stream, consumer: flags.consumer }, flags.count, flags.output);
      return;
    }
    let received = 0;
    let finish: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => (finish = resolve));
    // A callback that returns acks its message (stream deliveries); live ones need no ack.
    const callback = (message: ReceivedMessage): void => {
      if (flags.count !== undefined && received >= flags.count) return;
      received += 1;
      console.log(formatMessage(message, flags.output));
      if (flags.count !== undefined && received >= flags.count) finish();
    };
    const subscription: Subscription =
      flags.stream !== undefined && flags.consumer !== undefined
        ? client.subscribe({ stream: flags.stream, consumer: flags.consumer }, { callback })
        : client.subscribe(subject as string, {
            callback,
            ...(flags.queueGroup === undefined ? {} : { queueGroup: flags.queueGroup }),
          });
    await Promise.race([enough, interrupted(), subscription.closed]);
    await subscription.close();
  });
}

async function fetchCount(
  client: NetworkClient,
  target: { stream: string; consumer: string },
  count: number,
  output: OutputFormat,
): Promise<void> {
  let remaining = count;
  let stop = false;
  void interrupted().then(() => (stop = true));
  while (remaining > 0 && !stop) {
    const messages = await client.fetch(target, { batch: Math.min(remaining, 256), expiresMs: 1000 });
    for (const message of messages) {
      console.log(formatMessage(message, output));
      message.ack();
      remaining -= 1;
    }
  }
}

interface RequestFlags extends ConnectionFlags {
  readonly timeoutMs: number;
}

export async function request(
  subject: string,
  bodyArgument: string | undefined,
  flags: RequestFlags,
): Promise<void> {
  const body = await bodyOf(bodyArgument);
  await withClient(flags, async (client) => {
    const reply = await client.request(subject, body, { timeoutMs: flags.timeoutMs });
    console.log(bodyText(reply.body));
  });
}

function printDocument(document: unknown): void {
  console.log(JSON.stringify(document, null, 2));
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export async function streamList(flags: ConnectionFlags): Promise<void> {
  await withClient(flags, async (client) => {
    const streams = await client.admin.listStreams();
    if (streams.length === 0) {
      console.log('no streams');
      return;
    }
    console.log(
      table([
        ['NAME', 'SUBJECTS', 'RETENTION', 'MESSAGES', 'BYTES', 'CONSUMERS'],
        ...streams.map((stream) => [
          stream.config.name,
          stream.config.subjects.join(','),
          stream.config.retention,
          String(stream.messages),
          String(stream.bytes),
          String(stream.consumers),
        ]),
      ]),
    );
  });
}

export async function streamInfo(name: string, flags: ConnectionFlags): Promise<void> {
  await withClient(flags, async (client) => printDocument(await client.admin.streamInfo(name)));
}

export async function streamAdd(name: string, flags: ConnectionFlags & StreamAddFlags): Promise<void> {
  await withClient(flags, async (client) => {
    const info = await client.admin.addStream(streamConfigFromFlags(name, flags));
    const { config } = info;
    console.log(
      `stream ${config.name} created: subjects ${config.subjects.join(',')}, retention ${config.retention}, ` +
        `storage ${config.storage}, ${config.partitions} partition${config.partitions === 1 ? '' : 's'}`,
    );
  });
}

export async function streamRemove(name: string, flags: ConnectionFlags): Promise<void> {
  await withClient(flags, async (client) => {
    await client.admin.deleteStream(name);
    console.log(`stream ${name} deleted`);
  });
}

export async function consumerList(stream: string, flags: ConnectionFlags): Promise<void> {
  await withClient(flags, async (client) => {
    const consumers = await client.admin.listConsumers(stream);
    if (consumers.length === 0) {
      console.log(`no consumers on ${stream}`);
      return;
    }
    console.log(
      table([
        ['NAME', 'FILTER', 'ACK', 'DISPATCH', 'PENDING', 'ACK PENDING', 'ATTACHED'],
        ...consumers.map((consumer) => [
          consumer.config.name,
          consumer.config.filterSubject ?? '>',
          consumer.config.ackPolicy,
          consumer.config.dispatch,
          String(consumer.pending),
          String(consumer.ackPending),
          String(consumer.attached),
        ]),
      ]),
    );
  });
}

export async function consumerInfo(stream: string, name: string, flags: ConnectionFlags): Promise<void> {
  await withClient(flags, async (client) => printDocument(await client.admin.consumerInfo(stream, name)));
}

export async function consumerAdd(
  stream: string,
  name: string,
  flags: ConnectionFlags & ConsumerAddFlags,
): Promise<void> {
  await withClient(flags, async (client) => {
    const { config } = await client.admin.addConsumer(stream, consumerConfigFromFlags(name, flags));
    console.log(
      `consumer ${config.name} created on ${stream}: ${config.durable ? 'durable' : 'ephemeral'}, ` +
        `ack ${config.ackPolicy}, dispatch ${config.dispatch}, filter ${config.filterSubject ?? '>'}`,
    );
  });
}

export async function consumerRemove(stream: string, name: string, flags: ConnectionFlags): Promise<void> {
  await withClient(flags, async (client) => {
    await client.admin.deleteConsumer(stream, name);
    console.log(`consumer ${name} of ${stream} deleted`);
  });
}

/** The stream that holds `source`'s dead letters: the one capturing its dead-letter subject. */
function deadLetterStreamOf(source: StreamInfo, streams: readonly StreamInfo[]): StreamInfo | undefined {
  const subject = source.config.deadLetterSubject;
  return (
    streams.find((stream) => stream !== source && stream.config.subjects.includes(subject)) ??
    streams.find((stream) => stream.config.name === deadLetterStreamName(source.config.name))
  );
}

export async function deadLetterList(
  stream: string | undefined,
  flags: ConnectionFlags & { limit: number },
): Promise<void> {
  await withClient(flags, async (client) => {
    const streams = await client.admin.listStreams();
    if (stream === undefined) {
      const rows = streams.flatMap((source) => {
        const target = deadLetterStreamOf(source, streams);
        return target === undefined
          ? []
          : [[source.config.name, target.config.name, String(target.messages)]];
      });
      if (rows.length === 0) console.log('no dead letters');
      else console.log(table([['STREAM', 'DEAD-LETTER STREAM', 'MESSAGES'], ...rows]));
      return;
    }
    const source = streams.find((candidate) => candidate.config.name === stream);
    if (source === undefined) {
      await client.admin.streamInfo(stream); // Throws the broker's WEIR_STREAM_NOT_FOUND.
      return;
    }
    const target = deadLetterStreamOf(source, streams);
    if (target === undefined) {
      console.log(`no dead letters for ${stream}`);
      return;
    }
    // Browse with a throwaway consumer that acks nothing, so the dead letters stay.
    const reader = `weir-cli-dlq-${randomUUID()}`;
    const name = target.config.name;
    await client.admin.addConsumer(name, {
      name: reader,
      durable: false,
      ackPolicy: 'none',
      deliverPolicy: { kind: 'all' },
    });
    try {
      const messages = await client.fetch(
        { stream: name, consumer: reader },
        { batch: flags.limit, expiresMs: 500 },
      );
      if (messages.length === 0) console.log(`no dead letters for ${stream}`);
      for (const message of messages) console.log(formatMessage(message, 'json'));
    } finally {
      await client.admin.deleteConsumer(name, reader);
    }
  });
}

export async function deadLetterRedrive(
  stream: string,
  flags: ConnectionFlags & { limit?: number },
): Promise<void> {
  await withClient(flags, async (client) => {
    const streams = await client.admin.listStreams();
    const source = streams.find((candidate) => candidate.config.name === stream);
    if (source === undefined) {
      await client.admin.streamInfo(stream);
      return;
    }
    const target = deadLetterStreamOf(source, streams);
    if (target === undefined) {
      console.log(`no dead letters for ${stream}`);
      return;
    }
    const result = await client.admin.redrive(
      target.config.name,
      flags.limit === undefined ? {} : { maxMessages: flags.limit },
    );
    console.log(
      `redrove ${result.redriven} dead letter${result.redriven === 1 ? '' : 's'} from ${target.config.name}` +
        (result.skipped > 0 ? ` (${result.skipped} skipped: not dead letters)` : ''),
    );
  });
}

export async function bench(flags: BenchFlags): Promise<void> {
  const result = await runBench(flags, (options) => connect(options));
  console.log(formatBenchResult(flags, result));
}
