import { beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import { knownSecretCount, MIN_SCRUB_LENGTH, peerText, pinSecret, REDACTED, rememberSecret, resetSecretsForTest, scrub, scrubBody } from '../../src/lib/redact.js';
import { Secret, SecretUrl } from '../../src/lib/secret.js';
import { inspect } from 'node:util';

beforeEach(() => resetSecretsForTest());

describe('the scrubber', () => {
  it('replaces every known value, raw, JSON-escaped, URL-encoded and HTML-escaped', () => {
    pinSecret('s3cr3t"with\\quote<&>');
    const v = 's3cr3t"with\\quote<&>';
    expect(scrub(`a ${v} b`)).toBe(`a ${REDACTED} b`);
    expect(scrub(JSON.stringify({ x: `pre ${v}` }))).toBe(`{"x":"pre ${REDACTED}"}`);
    expect(scrub(`/p/${encodeURIComponent(v)}?q=1`)).toBe(`/p/${REDACTED}?q=1`);
    expect(scrub('<td>s3cr3t&quot;with\\quote&lt;&amp;&gt;</td>')).toBe(`<td>${REDACTED}</td>`);
  });

  it('learns every Secret made at run time (a token file re-read), and keeps only the most recent of those', () => {
    new Secret('token-from-a-file-1');
    expect(scrub('Bearer token-from-a-file-1')).toBe(`Bearer ${REDACTED}`);
    for (let i = 0; i < 300; i++) rememberSecret(`rotated-token-${i}`);
    pinSecret('pinned-config-value');
    expect(scrub('rotated-token-299 rotated-token-0 pinned-config-value')).toBe(`${REDACTED} rotated-token-0 ${REDACTED}`);
    expect(knownSecretCount()).toBe(257);
  });

  it('leaves values shorter than the minimum alone (scrubbing "prod" would mangle every line)', () => {
    pinSecret('prod');
    expect(MIN_SCRUB_LENGTH).toBe(6);
    expect(scrub('production prod')).toBe('production prod');
  });

  it('scrubs Buffers only when a secret occurs in them', () => {
    pinSecret('buffer-secret');
    const clean = Buffer.from('nothing here');
    expect(scrubBody(clean)).toBe(clean);
    expect(scrubBody(Buffer.from('x buffer-secret y'))).toBe(`x ${REDACTED} y`);
  });

  it('cuts peer text to 512 bytes, after scrubbing, and drops the start of a secret cut in half', () => {
    pinSecret('ABCDEFGHIJKLMNOP');
    const long = 'x'.repeat(600);
    expect(Buffer.byteLength(peerText(long))).toBeLessThanOrEqual(512 + 3);
    expect(peerText(`${'y'.repeat(100)} ABCDEFGHIJKLMNOP`)).toBe(`${'y'.repeat(100)} ${REDACTED}`);
    // The peer's text was read only partly: it ends in the first 8 characters of the secret.
    const cut = peerText(`${'z'.repeat(508)}ABCDEFGH`, 512);
    expect(cut).toBe(`${'z'.repeat(508)}${REDACTED}…`);
    // A cut through the marker of a scrubbed secret completes the marker.
    expect(peerText(`${'z'.repeat(504)}ABCDEFGHIJKLMNOP and more`, 512)).toBe(`${'z'.repeat(504)}${REDACTED}…`);
    // Multi-byte characters are never split into garbage.
    expect(peerText('é'.repeat(400), 9)).toBe('éééé…');
  });
});

describe('Secret and SecretUrl', () => {
  it('print redacted everywhere; a SecretUrl keeps scheme and host', () => {
    const s = new Secret('hunter2-password');
    expect(`${s}`).toBe(REDACTED);
    expect(JSON.stringify({ s })).toBe(`{"s":"${REDACTED}"}`);
    expect(inspect(s)).toBe(`Secret(${REDACTED})`);
    const u = new SecretUrl('https://hooks.example.com:8443/services/T0/B0/XYZSECRET?x=1');
    expect(`${u}`).toBe(`https://hooks.example.com:8443/${REDACTED}`);
    expect(JSON.stringify({ u })).toBe(`{"u":"https://hooks.example.com:8443/${REDACTED}"}`);
    expect(inspect(u)).toBe(`Secret(https://hooks.example.com:8443/${REDACTED})`);
    expect(u.reveal()).toBe('https://hooks.example.com:8443/services/T0/B0/XYZSECRET?x=1');
  });
});

describe('the logger', () => {
  it('scrubs every string of every line, messages, fields and error messages, at every level', () => {
    pinSecret('tok"en-value');
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', write: (l) => lines.push(l) });
    log.debug('got tok"en-value back', { body: 'echo: tok"en-value', nested: { list: ['tok"en-value'] }, error: new Error('bad tok"en-value') });
    log.child({ k: 'tok"en-value' }).error('x');
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      expect(l).not.toContain('en-value');
      expect(() => JSON.parse(l)).not.toThrow();
    }
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: `got ${REDACTED} back`, nested: { list: [REDACTED] }, error: { message: `bad ${REDACTED}` } });
  });
});
