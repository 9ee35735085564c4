import type { Config } from '../config/schema.js';
import { Secret } from '../lib/secret.js';

/**
 * The keys of a reloaded config that differ from what the process runs with and that a reload cannot apply: they are
 * named in a warning ("restart vipwatch to apply it"), everything else of the reload is applied.
 *
 * `running` is the config the process started with: what it runs for every key a reload does not apply (so the
 * warning repeats at each reload while the difference stays, and stops when the file goes back).
 *
 * Applied by a reload (App.reload and the run command; keep the two in step): `targets`, `defaults` for static
 * targets, `log.level`, `server.auth`, `server.metricsAuth`, and `server.tls` when HTTPS was on at start and stays on
 * (its files change). Not applied: the other `server` keys (the listener is made once), `server.tls` switched on or off,
 * `state`, `selfMonitor`, `kubernetes` (the connection and informers are made once), `agents` (the poller is made once), `diagnosis` (the engine, burst
 * planner and attempt rings are sized and configured once), `alerting` (sinks and outboxes are made once), and
 * `defaults` for targets discovered from the cluster (the cluster source keeps the defaults it started with).
 *
 * Names are the config file's keys (`server.headersTimeout`, `diagnosis.window`), one level into each section.
 */
export function restartNeeded(running: Config, next: Config): string[] {
  const out: string[] = [];
  for (const key of keysOf(running.server, next.server)) {
    if (key === 'auth' || key === 'metricsAuth') continue;
    const [a, b] = [running.server[key], next.server[key]];
    if (key === 'tls' && running.server.tls && next.server.tls) continue;
    if (!same(a, b)) out.push(`server.${fileKey(key)}`);
  }
  if (running.kubernetes.discovery.enabled) out.push(...changedKeys('defaults', running.defaults, next.defaults));
  for (const section of ['state', 'selfMonitor', 'kubernetes', 'agents', 'diagnosis', 'alerting'] as const) {
    out.push(...changedKeys(section, running[section], next[section]));
  }
  return out;
}

/** The warning's message: "server.listen changed: restart vipwatch to apply it; the rest of the reload is applied". */
export function restartMessage(keys: readonly string[]): string {
  return `${keys.join(', ')} changed: restart vipwatch to apply ${keys.length === 1 ? 'it' : 'them'}; the rest of the reload is applied`;
}

function changedKeys<T extends object>(section: string, a: T, b: T): string[] {
  return keysOf(a, b).filter((k) => !same(a[k], b[k])).map((k) => `${section}.${fileKey(String(k))}`);
}

function keysOf<T extends object>(a: T, b: T): (keyof T)[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])] as (keyof T)[];
}

/** The config file's name of a decoded key: durations are decoded to `…Ms` (`headersTimeout` -> `headersTimeoutMs`). */
function fileKey(key: string | number | symbol): string {
  return String(key).replace(/Ms$/, '');
}

/** Deep equality of decoded config values: secrets by their value, regular expressions by their source. */
export function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Secret || b instanceof Secret) return a instanceof Secret && b instanceof Secret && a.reveal() === b.reveal();
  if (a instanceof RegExp || b instanceof RegExp) return String(a) === String(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
