// What the harness and its load generator processes say to each other over the IPC
// channel of child_process.fork. A generator is either a publisher (one connection) or a
// set of subscriber connections that each receive every message of the run.
import type { CheckResult, DeliveryPromise } from './sequence-checker.js';
import type { StompHeaders } from './stomp-frames.js';

export const GeneratorProtocol = { Mqtt: 'mqtt', Stomp: 'stomp' } as const;
export type GeneratorProtocol = (typeof GeneratorProtocol)[keyof typeof GeneratorProtocol];

export interface GeneratorConfig {
  readonly role: 'publisher' | 'subscriber';
  readonly host: string;
  readonly port: number;
  readonly clientId: string;
  /** Stream i of the workload is this topic (MQTT) or destination (STOMP). */
  readonly destinations: readonly string[];
  /** Subscriber connections in this process; each receives every message (fan-out). */
  readonly connections: number;
  readonly messageBytes: number;
  /** 1: confirmed sends (MQTT QoS 1 / STOMP receipts) and acked deliveries; 0: neither. */
  readonly qos: 0 | 1;
  /** Messages a second; undefined sends as fast as the broker confirms. */
  readonly ratePerSecond: number | undefined;
  /** A publisher sends for this long, or until it has sent `messageCount`. */
  readonly durationMs: number;
  readonly messageCount: number | undefined;
  /** Most messages sent and not yet confirmed. */
  readonly inflightMax: number;
  /** MQTT: clean session off, so the broker keeps the subscription while nobody is connected. */
  readonly persistentSession: boolean;
  /** Subscriber: register the subscription, disconnect, and consume only when told to. */
  readonly deferConsume: boolean;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly stompSendHeaders: StompHeaders;
  readonly stompSubscribeHeaders: StompHeaders;
}

export interface PublisherReport {
  readonly sent: number;
  /** Per stream: sequences 0..n-1 were all confirmed by the broker. */
  readonly confirmedPerStream: readonly number[];
  /** Sent but not confirmed when the publisher gave up waiting. */
  readonly unconfirmed: number;
  readonly startNs: number;
  readonly endNs: number;
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
}

export interface SubscriberReport {
  readonly checks: readonly CheckResult[];
  readonly deliveries: number;
  readonly consumeStartNs: number;
  readonly firstNs: number;
  readonly lastNs: number;
  /** HDR histogram of first-delivery latency in microseconds, compressed base64. */
  readonly latency: string;
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
}

export type ToGenerator =
  | { readonly kind: 'configure'; readonly config: GeneratorConfig }
  | { readonly kind: 'go' }
  | {
      readonly kind: 'expect';
      readonly confirmedPerStream: readonly number[];
      readonly promise: DeliveryPromise;
      /** Give up when no new message arrived for this long. */
      readonly idleTimeoutMs: number;
    };

export type FromGenerator =
  | { readonly kind: 'ready' }
  | { readonly kind: 'published'; readonly report: PublisherReport }
  | { readonly kind: 'received'; readonly report: SubscriberReport }
  | { readonly kind: 'failed'; readonly message: string };
