import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'undici';
import { parseConfig } from '../../src/config/load.js';
import type { TargetConfig } from '../../src/config/targets.js';
import { ConfigError } from '../../src/lib/errors.js';
import { HttpProber } from '../../src/probe/http.js';
import { toProbeSpec } from '../../src/config/probe-spec.js';
import { tcpServer, type TestServer } from '../support/net-servers.js';

/**
 * check-config and undici agree on every character: what the config accepts in a header name, a header value or a
 * path is sent by the real prober to a server on 127.0.0.1 (and arrives byte for byte); what it refuses, undici
 * refuses too. Every UTF-16 code unit up to U+02FF is tried, plus a lone surrogate, U+FFFD and an emoji.
 */
const CODE_POINTS = [...Array.from({ length: 0x300 }, (_, i) => i), 0xd800, 0xfffd, 0x1f44d];

let server: TestServer;
/** Request heads as received, latin1 (the bytes undici wrote). */
const heads: string[] = [];

beforeAll(async () => {
  server = await tcpServer((s) => {
    let head = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      head += d;
      if (!head.includes('\r\n\r\n')) return;
      heads.push(head);
      s.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
    s.on('error', () => {});
  });
});
afterAll(() => server.close());

const yamlEscape = (cp: number) => (cp > 0xffff ? `\\U${cp.toString(16).padStart(8, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`);

/** One http target; `http` is a YAML flow mapping. Returns the target or the problems. */
function load(http: string): TargetConfig | string[] {
  const text = `targets:\n  - { name: t, address: 127.0.0.1, port: ${server.port}, protocol: http, timeout: 5s, interval: 10s, http: ${http} }\n`;
  try {
    return parseConfig(text, 'chars.yaml', { env: {} }).targets[0]!;
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

const prober = new HttpProber();

async function sendWithProber(t: TargetConfig): Promise<string> {
  const before = heads.length;
  const r = await prober.probe(toProbeSpec(t), AbortSignal.timeout(10_000));
  expect(r, JSON.stringify(r)).toMatchObject({ ok: true, httpStatus: 200 });
  expect(heads.length).toBe(before + 1);
  return heads.at(-1)!;
}

/** undici's own verdict on a request, without the prober. */
async function undiciRefuses(opts: { path?: string; headers?: Record<string, string> }): Promise<string | undefined> {
  const client = new Client(`http://127.0.0.1:${server.port}`);
  try {
    const res = await client.request({ path: opts.path ?? '/', method: 'GET', headers: opts.headers, signal: AbortSignal.timeout(10_000) });
    await res.body.dump();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  } finally {
    await client.destroy();
  }
}

describe('check-config accepts exactly what undici sends', () => {
  it('header values: every accepted character is sent as is; every refused one is refused by undici', async () => {
    let accepted = 0;
    let refused = 0;
    for (const cp of CODE_POINTS) {
      const ch = String.fromCodePoint(cp);
      const t = load(`{ headers: { X-Probe: "a${yamlEscape(cp)}b" } }`);
      if (Array.isArray(t)) {
        refused++;
        expect(t, `U+${cp.toString(16)}`).toEqual([expect.stringMatching(/^chars\.yaml:2:\d+: targets\[0\]\.http\.headers\.X-Probe: contains U\+[0-9A-F]{4,} .*at character 2: /)]);
        expect(await undiciRefuses({ headers: { 'X-Probe': `a${ch}b` } }), `U+${cp.toString(16)}`).toBe('UND_ERR_INVALID_ARG');
      } else {
        accepted++;
        expect(t.http!.headers['X-Probe']).toBe(`a${ch}b`);
        expect(await sendWithProber(t), `U+${cp.toString(16)}`).toContain(`\r\nX-Probe: a${ch}b\r\n`);
      }
    }
    // Tab, 0x20-0x7E and 0x80-0xFF.
    expect(accepted).toBe(1 + 95 + 128);
    expect(refused).toBe(CODE_POINTS.length - accepted);
  });

  it('paths: every accepted character is sent as is; every refused one is refused by undici', async () => {
    let accepted = 0;
    for (const cp of CODE_POINTS) {
      const ch = String.fromCodePoint(cp);
      const t = load(`{ path: "/a${yamlEscape(cp)}b" }`);
      if (Array.isArray(t)) {
        expect(t, `U+${cp.toString(16)}`).toEqual([expect.stringMatching(/^chars\.yaml:2:\d+: targets\[0\]\.http\.path: contains U\+[0-9A-F]{4,} .*at character 3: /)]);
        expect(await undiciRefuses({ path: `/a${ch}b` }), `U+${cp.toString(16)}`).toBe('UND_ERR_INVALID_ARG');
      } else {
        accepted++;
        expect(t.http!.path).toBe(`/a${ch}b`);
        expect(await sendWithProber(t), `U+${cp.toString(16)}`).toMatch(new RegExp(`^GET /a\\x${cp.toString(16).padStart(2, '0')}b HTTP/1\\.1\\r\\n`));
      }
    }
    // 0x21-0xFF.
    expect(accepted).toBe(0xff - 0x21 + 1);
  });

  it('header names: every accepted character is sent; every refused one is refused by undici', async () => {
    let accepted = 0;
    for (let cp = 0x21; cp < 0x7f; cp++) {
      const ch = String.fromCharCode(cp);
      const name = `X${ch}Y`;
      const t = load(`{ headers: { ${JSON.stringify(name)}: v } }`);
      if (Array.isArray(t)) {
        expect(t[0], name).toMatch(/: invalid HTTP header name$/);
        expect(await undiciRefuses({ headers: { [name]: 'v' } }), name).toBe('UND_ERR_INVALID_ARG');
      } else {
        accepted++;
        expect((await sendWithProber(t)).toLowerCase(), name).toContain(`\r\n${name.toLowerCase()}: v\r\n`);
      }
    }
    // RFC 9110 tchar minus the letters and digits: ! # $ % & ' * + - . ^ _ ` | ~ plus 62 letters and digits.
    expect(accepted).toBe(15 + 62);
  });
});
