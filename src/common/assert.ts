// Programmer errors: a broken invariant crashes loudly instead of corrupting data.
// Never catch an AssertionError.

export class AssertionError extends Error {
  constructor(message: string) {
    super(`assertion failed: ${message}`);
    this.name = 'AssertionError';
  }
}

export function assert(condition: unknown, why: string): asserts condition {
  if (!condition) throw new AssertionError(why);
}

export function unreachable(value: never, why = 'unreachable'): never {
  throw new AssertionError(`${why}: ${String(value)}`);
}
