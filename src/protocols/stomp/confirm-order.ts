// Keeps RECEIPTs in frame order behind durability confirms (STOMP 1.2: RECEIPT: "the
// server has processed the frame and all frames before it").
//
// Confirms are numbered as they are registered. `settledThrough` is the highest number with
// every confirm up to it settled (confirms of different streams may settle out of order, so
// later ones wait in `ahead`). Work queued with `afterAll` runs once every confirm
// registered before it has settled, in the order it was queued. No promise per frame.

export class ConfirmOrder {
  #sequence = 0;
  #settledThrough = 0;
  readonly #ahead = new Set<number>();
  readonly #waiters: { readonly after: number; readonly run: () => void }[] = [];
  #outstanding = 0;

  /** Confirms registered and not yet settled. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** Registers a confirm; pass the returned number to `settle`. */
  register(): number {
    this.#outstanding++;
    return ++this.#sequence;
  }

  settle(sequence: number): void {
    this.#outstanding--;
    if (sequence === this.#settledThrough + 1) {
      this.#settledThrough = sequence;
      while (this.#ahead.delete(this.#settledThrough + 1)) this.#settledThrough++;
    } else {
      this.#ahead.add(sequence);
    }
    while (this.#waiters.length > 0) {
      const waiter = this.#waiters[0];
      if (waiter === undefined || waiter.after > this.#settledThrough) break;
      this.#waiters.shift();
      waiter.run();
    }
  }

  /** Runs `run` once every confirm registered so far has settled, after earlier waiters. */
  afterAll(run: () => void): void {
    if (this.#waiters.length === 0 && this.#settledThrough === this.#sequence) run();
    else this.#waiters.push({ after: this.#sequence, run });
  }
}
