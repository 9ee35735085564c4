/**
 * Capped exponential backoff with jitter: the n-th delay is drawn from [d/2, d] where d = min(max, initial * 2^n),
 * so retries from many probes spread out and no delay ever exceeds the cap.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const d = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(d / 2 + (d / 2) * this.random());
  }

  reset(): void {
    this.attempt = 0;
  }
}
