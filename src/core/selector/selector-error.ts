// The one error a bad selector gets: WEIR_INVALID_SELECTOR, with the place it went wrong.

import { ErrorCode, WeirError } from '../../common/errors.js';

export class SelectorSyntaxError extends WeirError {
  /** 0-based character offset into the selector text. */
  readonly position: number;
  /** 1-based, as people count. */
  readonly column: number;
  readonly reason: string;

  constructor(position: number, reason: string) {
    super(ErrorCode.InvalidSelector, `invalid selector at column ${position + 1}: ${reason}`);
    this.name = 'SelectorSyntaxError';
    this.position = position;
    this.column = position + 1;
    this.reason = reason;
  }
}
