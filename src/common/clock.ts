// The one source of time and timers. Production uses SystemClock; tests use ManualClock so
// that ack waits, backoffs and retention run without sleeping.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  nowMs(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
}

export class SystemClock implements Clock {
  nowMs(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    // Node caps timers at 2^31-1 ms; longer delays re-arm until they are due.
    const maxDelayMs = 2_147_483_647;
    let timer: NodeJS.Timeout;
    const dueMs = Date.now() + delayMs;
    const arm = (remainingMs: number): void => {
      timer = setTimeout(
        () => {
          const left = dueMs - Date.now();
          if (left > 0) arm(left);
          else callback();
        },
        Math.max(0, Math.min(remainingMs, maxDelayMs)),
      );
      timer.unref?.();
    };
    arm(delayMs);
    return { cancel: () => clearTimeout(timer) };
  }
}

interface ManualTimer {
  dueMs: number;
  sequence: number;
  callback: () => void;
  cancelled: boolean;
}

export class ManualClock implements Clock {
  #nowMs: number;
  #timers: ManualTimer[] = [];
  #sequence = 0;

  constructor(startMs = 1_700_000_000_000) {
    this.#nowMs = startMs;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer: ManualTimer = {
      dueMs: this.#nowMs + Math.max(0, delayMs),
      sequence: this.#sequence++,
      callback,
      cancelled: false,
    };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Moves time forward, firing due timers in order of due time, then creation. */
  advance(deltaMs: number): void {
    const targetMs = this.#nowMs + deltaMs;
    for (;;) {
      this.#timers = this.#timers.filter((timer) => !timer.cancelled);
      let next: ManualTimer | undefined;
      for (const timer of this.#timers) {
        if (timer.dueMs > targetMs) continue;
        if (
          next === undefined ||
          timer.dueMs < next.dueMs ||
          (timer.dueMs === next.dueMs && timer.sequence < next.sequence)
        ) {
          next = timer;
        }
      }
      if (next === undefined) break;
      this.#nowMs = Math.max(this.#nowMs, next.dueMs);
      next.cancelled = true;
      next.callback();
    }
    this.#nowMs = targetMs;
  }

  pendingTimerCount(): number {
    return this.#timers.filter((timer) => !timer.cancelled).length;
  }
}
