// What the client commands do, over the network client (src/client/network-client.ts).
// The network client is being built in parallel; until it is in this build every client
// command fails with WEIR_NOT_SUPPORTED instead of pretending to reach a broker.

import { ErrorCode, WeirError } from '../../common/errors.js';

function notYet(command: string): Promise<never> {
  return Promise.reject(
    new WeirError(ErrorCode.NotSupported, `weir ${command}: the network client is not in this build yet`),
  );
}

export const publish = (): Promise<void> => notYet('pub');
export const subscribe = (): Promise<void> => notYet('sub');
export const request = (): Promise<void> => notYet('request');
export const streamList = (): Promise<void> => notYet('stream ls');
export const streamInfo = (): Promise<void> => notYet('stream info');
export const streamAdd = (): Promise<void> => notYet('stream add');
export const streamRemove = (): Promise<void> => notYet('stream rm');
export const consumerList = (): Promise<void> => notYet('consumer ls');
export const consumerInfo = (): Promise<void> => notYet('consumer info');
export const consumerAdd = (): Promise<void> => notYet('consumer add');
export const consumerRemove = (): Promise<void> => notYet('consumer rm');
export const deadLetterList = (): Promise<void> => notYet('dlq ls');
export const deadLetterRedrive = (): Promise<void> => notYet('dlq redrive');
export const bench = (): Promise<void> => notYet('bench');
