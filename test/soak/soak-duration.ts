/** How long the soak runs: VIPWATCH_SOAK_SECONDS, default 300 (5 minutes); CI must not run it shorter. */
export const DEFAULT_SOAK_SECONDS = 300;

export function soakSeconds(env: NodeJS.ProcessEnv, ci: boolean): number {
  const raw = env.VIPWATCH_SOAK_SECONDS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_SOAK_SECONDS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 10) throw new Error(`VIPWATCH_SOAK_SECONDS must be a whole number of seconds >= 10, got ${JSON.stringify(raw)}`);
  if (ci && n < DEFAULT_SOAK_SECONDS) throw new Error(`VIPWATCH_SOAK_SECONDS=${n}: under CI the soak runs at least ${DEFAULT_SOAK_SECONDS} s`);
  return n;
}
