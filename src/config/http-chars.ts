/**
 * The characters undici accepts in a request, so that a config that passes check-config is always sent.
 * Mirrors node_modules/undici/lib/core/request.js (undici 7): a header value is refused when it matches
 * /[^\t\x20-\x7e\x80-\xff]/ (util.js headerCharRegex), a path when it matches /[^\u0021-\u00ff]/ (invalidPathRegex).
 * test/config/http-chars.test.ts sends every accepted character through a real undici request.
 */
import { Secret } from '../lib/secret.js';
import { INVALID, typeName, type Validator } from './schema-dsl.js';

const BAD_HEADER_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;
const BAD_PATH_CHAR = /[^\x21-\xff]/;

const NAMES: Record<number, string> = { 0x00: 'NUL', 0x09: 'tab', 0x0a: 'LF', 0x0d: 'CR', 0x20: 'space', 0x7f: 'DEL' };

/** "U+000D (CR)": a code point and its name, never the surrounding text (a header value may be a secret). */
export function describeChar(text: string, index: number): string {
  const cp = text.codePointAt(index)!;
  const name = NAMES[cp];
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}${name ? ` (${name})` : ''}`;
}

/** The index of the first character undici refuses in a header value, or -1. */
export function badHeaderValueChar(value: string): number {
  return value.search(BAD_HEADER_VALUE_CHAR);
}

/** The index of the first character undici refuses in a request path, or -1. */
export function badPathChar(path: string): number {
  return path.search(BAD_PATH_CHAR);
}

/** Wraps a header-value validator (plain or Secret) with undici's character rule. */
export function headerValue(inner: Validator<string | Secret>): Validator<string | Secret> {
  return (v, path, ctx) => {
    const r = inner(v, path, ctx);
    if (r === INVALID) return r;
    const text = r instanceof Secret ? r.reveal() : r;
    const i = badHeaderValueChar(text);
    if (i < 0) return r;
    return ctx.report(path, `contains ${describeChar(text, i)} at character ${i + 1}: a header value may hold only tab, space, visible ASCII and U+0080-U+00FF`);
  };
}

/** A request path: starts with "/" and holds only what undici sends. */
export function requestPath(): Validator<string> {
  return (v, path, ctx) => {
    if (typeof v !== 'string') return ctx.report(path, `must be a string, got ${typeName(v)}`);
    if (v === '') return ctx.report(path, 'must not be empty');
    if (!v.startsWith('/')) return ctx.report(path, 'must start with "/"');
    const i = badPathChar(v);
    if (i < 0) return v;
    return ctx.report(path, `contains ${describeChar(v, i)} at character ${i + 1}: a path may hold only visible ASCII and U+0080-U+00FF; percent-encode the rest (a space is %20)`);
  };
}
