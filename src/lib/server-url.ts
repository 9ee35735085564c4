/** Normalizes an API server URL; undefined when it is not an absolute http(s) URL (no query or fragment). */
export function normalizeServer(text: string): string | undefined {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return undefined;
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || !u.hostname || u.search || u.hash) return undefined;
  return u.toString().replace(/\/+$/, '');
}
