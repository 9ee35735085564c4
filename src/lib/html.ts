/** HTML escaping, one table for the server's pages, the browser script they embed, e-mail bodies and the scrubber. */
export const HTML_ESCAPES: Readonly<Record<string, string>> = Object.freeze({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' });

/** Escapes the five characters that matter in element text and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** The same escaping as browser JavaScript source (`const <name> = (s) => ...`), for a page's inline script. */
export function escapeHtmlScript(name: string): string {
  return `const ${name} = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => (${JSON.stringify(HTML_ESCAPES)})[c]);`;
}
