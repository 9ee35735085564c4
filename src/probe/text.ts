/** A short, printable sample of what the peer sent, for failure details. */
export function excerpt(text: string, max = 64): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** RegExp.test without the lastIndex state that /g or /y would carry between attempts. */
export function matches(re: RegExp, text: string): boolean {
  re.lastIndex = 0;
  return re.test(text);
}

/** What a peer names itself (a header or JSON field) is kept to this many UTF-8 bytes: any Kubernetes name fits. */
export const MAX_IDENTITY_BYTES = 256;
/** Failure details (error messages, which can quote what the peer sent) are kept to this many UTF-8 bytes. */
export const MAX_DETAIL_BYTES = 512;

const MARK = '…';

/**
 * Cuts `text` to at most `maxBytes` UTF-8 bytes, never inside a character, ending with "…" when it was cut: per-attempt
 * data that a peer controls stays bounded however much the peer sends.
 */
export function capBytes(text: string, maxBytes: number): string {
  // Fast path: every UTF-16 unit is at most 3 UTF-8 bytes.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const room = maxBytes - Buffer.byteLength(MARK, 'utf8');
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > room) break;
    bytes += n;
    end += ch.length;
  }
  return text.slice(0, end) + MARK;
}
