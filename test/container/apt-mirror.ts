/**
 * The Debian mirror this machine's apt uses, for debootstrap: the first source that serves `suite` itself (not
 * -security or -updates), from one-line `.list` files or deb822 `.sources` files.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FALLBACK_MIRROR = 'http://deb.debian.org/debian';

interface Source {
  types: string[];
  uris: string[];
  suites: string[];
}

/** Pure: the mirror for `suite` in these files' texts (name -> text), in order; undefined when none serves it. */
export function mirrorIn(files: ReadonlyArray<{ name: string; text: string }>, suite: string): string | undefined {
  const sources = files.flatMap((f) => (f.name.endsWith('.sources') ? deb822(f.text) : oneLine(f.text)));
  const hit = sources.find((s) => s.types.includes('deb') && s.suites.includes(suite) && s.uris.length);
  return hit?.uris[0]?.replace(/\/+$/, '');
}

/** What apt on this machine reads (VIPWATCH_DEBIAN_MIRROR overrides it); Debian's CDN when nothing serves `suite`. */
export function debianMirror(suite: string, etc = '/etc/apt'): string {
  const forced = process.env.VIPWATCH_DEBIAN_MIRROR;
  if (forced) return forced;
  const files: { name: string; text: string }[] = [];
  const main = join(etc, 'sources.list');
  if (existsSync(main)) files.push({ name: main, text: readFileSync(main, 'utf8') });
  const dir = join(etc, 'sources.list.d');
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith('.list') || name.endsWith('.sources')) files.push({ name, text: readFileSync(join(dir, name), 'utf8') });
    }
  }
  return mirrorIn(files, suite) ?? FALLBACK_MIRROR;
}

/** `deb [options] URI suite component...` lines. */
function oneLine(text: string): Source[] {
  const out: Source[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').replace(/\[[^\]]*\]/, ' ').trim();
    const [type, uri, suite] = line.split(/\s+/);
    if (type && uri && suite) out.push({ types: [type], uris: [uri], suites: [suite] });
  }
  return out;
}

/** deb822 stanzas separated by blank lines: `Types:`, `URIs:`, `Suites:` (an `Enabled: no` stanza is skipped). */
function deb822(text: string): Source[] {
  const out: Source[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#')) continue;
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) fields.set(m[1]!.toLowerCase(), m[2]!.trim());
    }
    if (fields.get('enabled')?.toLowerCase() === 'no') continue;
    const list = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    out.push({ types: list('types'), uris: list('uris'), suites: list('suites') });
  }
  return out;
}
