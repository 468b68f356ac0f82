// Helpers for the sparse indexes: entries live in growable typed arrays whose values never
// decrease, and lookups want the last entry at or below a bound.

/** The last index below `count` whose value is at most `limit`, or -1. Values must not decrease. */
export function lastIndexAtMost(values: ArrayLike<number>, count: number, limit: number): number {
  return lastIndex(values, count, limit, false);
}

/** The last index below `count` whose value is below `limit`, or -1. Values must not decrease. */
export function lastIndexBelow(values: ArrayLike<number>, count: number, limit: number): number {
  return lastIndex(values, count, limit, true);
}

function lastIndex(values: ArrayLike<number>, count: number, limit: number, strict: boolean): number {
  let low = 0;
  let high = count - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const value = values[middle]!;
    if (strict ? value < limit : value <= limit) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

/** A copy of `array` with room for `length` entries (the first `array.length` kept). */
export function grown<T extends Uint32Array | Float64Array>(array: T, length: number): T {
  const larger = new (array.constructor as new (length: number) => T)(length);
  larger.set(array);
  return larger;
}
