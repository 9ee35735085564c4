import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { escapeHtml, escapeHtmlScript } from '../../src/lib/html.js';
import { statusPageHtml } from '../../src/server/status-page.js';

const NASTY = `<script>alert("x")</script> & 'q' &amp;`;

describe('HTML escaping', () => {
  it('escapes the five characters and nothing else', () => {
    expect(escapeHtml(NASTY)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39; &amp;amp;');
    expect(escapeHtml('plain text ✓')).toBe('plain text ✓');
  });

  it('the browser version embedded in the status page escapes exactly the same (and null/undefined as empty)', () => {
    const esc = runInNewContext(`${escapeHtmlScript('esc')}; esc`) as (s: unknown) => string;
    expect(esc(NASTY)).toBe(escapeHtml(NASTY));
    expect(esc(undefined)).toBe('');
    expect(esc(null)).toBe('');
    expect(esc(42)).toBe('42');
    expect(statusPageHtml('1.0')).toContain(escapeHtmlScript('esc'));
    expect(statusPageHtml('<b>')).toContain('v&lt;b&gt;');
  });
});
