import type { RunRecord } from './outcome.js';
export function writeReport(_record: RunRecord, _reportPath: string): void {}
