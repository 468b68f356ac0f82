// Consumer definitions: defaults and validation (see stream-config.ts for the pattern).

import { InvalidArgumentError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import type { ConsumerConfig, ConsumerConfigInput, DeliverPolicy } from './api.js';
import { compileSelector } from './selector/selector.js';
import { validateName } from './stream-config.js';
import { validateFilter } from './subject.js';

export const consumerDefaults = {
  ackWaitMs: 30_000,
  maxDeliver: -1,
  dispatch: 'shared',
} as const;

export function parseConsumerConfig(input: ConsumerConfigInput): ConsumerConfig {
  const name = validateName('consumer', input.name);
  const filterSubject = input.filterSubject;
  if (filterSubject !== undefined) validateFilter(filterSubject);
  const ackPolicy = input.ackPolicy ?? 'explicit';
  if (ackPolicy !== 'none' && ackPolicy !== 'explicit') {
    throw new InvalidArgumentError(`ackPolicy must be none or explicit, not '${String(ackPolicy)}'`);
  }
  const dispatch = input.dispatch ?? consumerDefaults.dispatch;
  if (
    dispatch !== 'exclusive' &&
    dispatch !== 'failover' &&
    dispatch !== 'shared' &&
    dispatch !== 'key_shared'
  ) {
    throw new InvalidArgumentError(`dispatch must be exclusive, failover, shared or key_shared`);
  }
  const ackWaitMs = input.ackWaitMs ?? consumerDefaults.ackWaitMs;
  if (!Number.isSafeInteger(ackWaitMs) || ackWaitMs <= 0) {
    throw new InvalidArgumentError('ackWaitMs must be a positive integer');
  }
  const maxDeliver = input.maxDeliver ?? consumerDefaults.maxDeliver;
  if (!Number.isSafeInteger(maxDeliver) || (maxDeliver < 1 && maxDeliver !== -1)) {
    throw new InvalidArgumentError('maxDeliver must be a positive integer, or -1 for unlimited');
  }
  const backoffMs = input.backoffMs ?? [];
  if (!Array.isArray(backoffMs) || backoffMs.length > Limits.backoffStepsMax) {
    throw new InvalidArgumentError(`backoffMs must be a list of at most ${Limits.backoffStepsMax} delays`);
  }
  for (const delayMs of backoffMs) {
    if (!Number.isSafeInteger(delayMs) || delayMs < 0) {
      throw new InvalidArgumentError('backoffMs entries must be non-negative integers');
    }
  }
  const maxAckPending = input.maxAckPending ?? Limits.consumerAckPendingDefault;
  if (
    !Number.isSafeInteger(maxAckPending) ||
    maxAckPending < 1 ||
    maxAckPending > Limits.consumerAckPendingMax
  ) {
    throw new InvalidArgumentError(
      `maxAckPending must be an integer from 1 to ${Limits.consumerAckPendingMax}`,
    );
  }
  // core2: a selector is compiled once here so that a bad one is refused at definition time.
  const selector = input.selector;
  if (selector !== undefined) {
    if (typeof selector !== 'string') throw new InvalidArgumentError('selector must be a string');
    compileSelector(selector);
  }
  return {
    name,
    durable: input.durable ?? true,
    filterSubject,
    deliverPolicy: parseDeliverPolicy(input.deliverPolicy ?? { kind: 'all' }),
    ackPolicy,
    ackWaitMs,
    maxDeliver,
    backoffMs: [...backoffMs],
    maxAckPending,
    dispatch,
    ...(selector === undefined || selector.trim() === '' ? {} : { selector }),
  };
}

/** What `updateConsumer`-like redefinition may change: flow and timing, not position or filter. */
export function sameConsumerShape(a: ConsumerConfig, b: ConsumerConfig): boolean {
  return (
    a.durable === b.durable &&
    a.filterSubject === b.filterSubject &&
    a.ackPolicy === b.ackPolicy &&
    a.dispatch === b.dispatch &&
    a.selector === b.selector &&
    JSON.stringify(a.deliverPolicy) === JSON.stringify(b.deliverPolicy)
  );
}

function parseDeliverPolicy(input: DeliverPolicy): DeliverPolicy {
  switch (input.kind) {
    case 'all':
    case 'new':
    case 'last':
    case 'last_per_subject':
      return { kind: input.kind };
    case 'offset':
      if (!Number.isSafeInteger(input.offset) || input.offset < 0) {
        throw new InvalidArgumentError('deliverPolicy offset must be a non-negative integer');
      }
      return { kind: 'offset', offset: input.offset };
    case 'time':
      if (!Number.isFinite(input.timeMs))
        throw new InvalidArgumentError('deliverPolicy timeMs must be a number');
      return { kind: 'time', timeMs: input.timeMs };
    default:
      throw new InvalidArgumentError(`unknown deliverPolicy '${String((input as { kind: unknown }).kind)}'`);
  }
}

/** Redelivery delay for the attempt that follows `deliveryCount` failed ones. */
export function backoffDelayMs(config: ConsumerConfig, deliveryCount: number): number {
  if (config.backoffMs.length === 0) return 0;
  const index = Math.min(deliveryCount - 1, config.backoffMs.length - 1);
  return config.backoffMs[Math.max(0, index)] ?? 0;
}
