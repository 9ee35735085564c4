/**
 * The process-wide scrubber: it knows every secret value vipwatch holds (config values from `${ENV}` expansion
 * and `*File` keys, Kubernetes tokens and keys as they are read) and replaces them in any text on its way out:
 * log lines, HTTP API replies, sink error messages, `test-alert` output. Defence in depth behind `Secret`, which
 * never prints in the first place: this catches what peers echo back (error bodies, Status messages).
 */
import { escapeHtml } from './html.js';

export const REDACTED = '[redacted]';

/** Values shorter than this are not searched for in free text: scrubbing "prod" or "1234" would mangle every log. */
export const MIN_SCRUB_LENGTH = 6;

/** Peer bodies and messages are cut to this many bytes before they are logged or served. */
export const PEER_TEXT_LIMIT = 512;

/** Config secrets: kept for the life of the process (a reload adds, never forgets: an old value may still echo). */
const PINNED_MAX = 4096;
/** Secrets met at run time (rotating tokens): the most recent ones. */
const RECENT_MAX = 256;

const pinned = new Set<string>();
const recent = new Map<string, true>();
/** Every searched form (raw, JSON-escaped, URL-encoded, HTML-escaped), longest first; rebuilt lazily. */
let needles: string[] | undefined = [];
let shortest = Infinity;

/** A secret that came from the config: scrubbed for as long as the process runs. */
export function pinSecret(value: string): void {
  if (value.length < MIN_SCRUB_LENGTH || pinned.has(value) || pinned.size >= PINNED_MAX) return;
  pinned.add(value);
  needles = undefined;
}

/** A secret met at run time (a token file re-read, an exec credential): the most recent RECENT_MAX are scrubbed. */
export function rememberSecret(value: string): void {
  if (value.length < MIN_SCRUB_LENGTH || pinned.has(value)) return;
  if (recent.has(value)) {
    // Refresh its place; the needle set does not change.
    recent.delete(value);
    recent.set(value, true);
    return;
  }
  recent.set(value, true);
  if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value!);
  needles = undefined;
}

/** How many distinct secret values the scrubber knows (tests, and a sanity figure). */
export function knownSecretCount(): number {
  return pinned.size + recent.size;
}

/** Forgets every value: tests only. */
export function resetSecretsForTest(): void {
  pinned.clear();
  recent.clear();
  needles = [];
  shortest = Infinity;
}

function build(): string[] {
  const set = new Set<string>();
  for (const v of [...pinned, ...recent.keys()]) {
    set.add(v);
    set.add(JSON.stringify(v).slice(1, -1));
    set.add(encodeURIComponent(v));
    set.add(escapeHtml(v));
  }
  const list = [...set].filter((s) => s.length >= MIN_SCRUB_LENGTH).sort((a, b) => b.length - a.length);
  shortest = list.length ? list[list.length - 1]!.length : Infinity;
  return list;
}

/** Replaces every known secret value (and its escaped forms) in text. Cheap when none occurs: one indexOf per form. */
export function scrub(text: string): string {
  const list = (needles ??= build());
  if (!list.length || text.length < shortest) return text;
  let out = text;
  for (const n of list) if (out.includes(n)) out = out.split(n).join(REDACTED);
  return out;
}

/** Buffers (reply bodies) are scrubbed as UTF-8 text only when a secret occurs in them. */
export function scrubBody<T extends string | Buffer>(body: T): T | string {
  if (typeof body === 'string') return scrub(body);
  const list = (needles ??= build());
  if (!list.length || body.length < shortest) return body;
  for (const n of list) if (body.includes(n)) return scrub(body.toString('utf8'));
  return body;
}

/**
 * What a peer sent back (an error body, a Status message), fit for a log line or an API reply: scrubbed, then cut
 * to `limit` UTF-8 bytes, and a cut that ends in the first characters of a secret loses them too.
 */
export function peerText(text: string, limit = PEER_TEXT_LIMIT): string {
  let out = scrub(text);
  if (Buffer.byteLength(out) <= limit) return out;
  out = Buffer.from(out).subarray(0, limit).toString('utf8').replace(/\uFFFD+$/, '');
  // A cut through a marker completes it, so the reader sees a redaction rather than "[redac".
  const open = out.lastIndexOf('[');
  if (open >= 0 && open > out.length - REDACTED.length && REDACTED.startsWith(out.slice(open))) out = out.slice(0, open) + REDACTED;
  else out = dropSecretPrefix(out);
  return `${out}…`;
}

/** A text cut before its end may end in the start of a secret (read only partly): that start goes. */
function dropSecretPrefix(text: string): string {
  const list = (needles ??= build());
  let cut = 0;
  for (const n of list) {
    for (let k = Math.min(n.length - 1, text.length); k >= 3 && k > cut; k--) {
      if (text.endsWith(n.slice(0, k))) {
        cut = k;
        break;
      }
    }
  }
  return cut ? `${text.slice(0, text.length - cut)}${REDACTED}` : text;
}
