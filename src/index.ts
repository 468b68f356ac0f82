// Weir's public API. Exports are listed by name (STYLE.md): no `export *`.
export { WeirError, InvalidArgumentError, CorruptLogError, ErrorCode, isWeirError } from './common/errors.js';
export type { Clock, TimerHandle } from './common/clock.js';
export { SystemClock, ManualClock } from './common/clock.js';
