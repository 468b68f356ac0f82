// Heart-beat timers of one connection (STOMP 1.2: Heart-beating), on the Clock: send an EOL
// when nothing was written for `sendMs`; give up on a peer silent for twice `receiveMs`
// (network delays make heart-beats late, so the spec allows a margin).
import type { Clock, TimerHandle } from '../../common/clock.js';

export interface HeartBeatIo {
  lastReadMs(): number;
  lastWriteMs(): number;
  /** Writes one EOL. */
  beat(): void;
  /** The peer was silent too long; the timers have stopped. */
  timedOut(silentMs: number): void;
}

export class HeartBeat {
  readonly #clock: Clock;
  readonly #io: HeartBeatIo;
  #sendTimer: TimerHandle | undefined;
  #receiveTimer: TimerHandle | undefined;
  #stopped = false;

  constructor(clock: Clock, io: HeartBeatIo) {
    this.#clock = clock;
    this.#io = io;
  }

  start(sendMs: number, receiveMs: number): void {
    if (sendMs > 0) this.#armSend(sendMs);
    if (receiveMs > 0) this.#armReceive(receiveMs * 2);
  }

  stop(): void {
    this.#stopped = true;
    this.#sendTimer?.cancel();
    this.#receiveTimer?.cancel();
  }

  #armSend(intervalMs: number): void {
    const check = (): void => {
      if (this.#stopped) return;
      const idleMs = this.#clock.nowMs() - this.#io.lastWriteMs();
      if (idleMs >= intervalMs) {
        this.#io.beat();
        this.#sendTimer = this.#clock.setTimeout(check, intervalMs);
      } else {
        this.#sendTimer = this.#clock.setTimeout(check, intervalMs - idleMs);
      }
    };
    this.#sendTimer = this.#clock.setTimeout(check, intervalMs);
  }

  #armReceive(graceMs: number): void {
    const check = (): void => {
      if (this.#stopped) return;
      const silentMs = this.#clock.nowMs() - this.#io.lastReadMs();
      if (silentMs >= graceMs) {
        this.stop();
        this.#io.timedOut(silentMs);
        return;
      }
      this.#receiveTimer = this.#clock.setTimeout(check, graceMs - silentMs);
    };
    this.#receiveTimer = this.#clock.setTimeout(check, graceMs);
  }
}
