import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { restartMessage, restartNeeded } from '../../src/cli/reload-diff.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { makePki } from '../support/net-tls.js';

const dir = mkdtempSync(join(tmpdir(), 'vipwatch-reload-diff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BASE = `server: { listen: "127.0.0.1:9464" }
targets:
  - { name: web, address: 127.0.0.1, port: 80, interval: 1s }
`;
const load = (yaml: string): Config => parseConfig(yaml, join(dir, 'vipwatch.yaml'), { env: {} });

describe('restartNeeded: what a reload changed but cannot apply', () => {
  const base = load(BASE);

  it('names nothing for the same file loaded again (secrets compared by value, not by object)', () => {
    writeFileSync(join(dir, 'hook.secret'), 'hmac-key-123456');
    writeFileSync(join(dir, 'token'), 'token-123456');
    const yaml = `${BASE.replace('listen: "127.0.0.1:9464"', 'listen: "127.0.0.1:9464", auth: { bearerTokenFile: token }')}
alerting: { webhooks: [ { url: "http://127.0.0.1:1/hook", secretFile: hook.secret } ] }
`;
    expect(restartNeeded(load(yaml), load(yaml))).toEqual([]);
    expect(restartNeeded(base, load(BASE))).toEqual([]);
  });

  it('names what is not applied, by the keys of the file', () => {
    expect(restartNeeded(base, load(BASE.replace('9464', '9465')))).toEqual(['server.listen']);
    expect(restartNeeded(base, load(`${BASE}state: { dir: elsewhere }\n`))).toEqual(['state.dir']);
    expect(restartNeeded(base, load(`${BASE}selfMonitor: { stallThreshold: 1s }\ndiagnosis: { window: 10m, burst: { count: 5 } }\n`)))
      .toEqual(['selfMonitor.stallThreshold', 'diagnosis.window', 'diagnosis.burst']);
    expect(restartNeeded(base, load(BASE.replace('listen: "127.0.0.1:9464"', 'listen: "127.0.0.1:9464", headersTimeout: 1s, maxConnections: 9'))))
      .toEqual(['server.maxConnections', 'server.headersTimeout']);
    expect(restartNeeded(base, load(`${BASE}kubernetes: { requestTimeout: 5s }\nalerting: { instance: other }\n`)))
      .toEqual(['kubernetes.requestTimeout', 'alerting.instance']);
  });

  it('names nothing that a reload applies: targets, defaults of static targets, log.level, server.auth and server.metricsAuth', () => {
    writeFileSync(join(dir, 'token2'), 'other-token-123456');
    const next = load(`server: { listen: "127.0.0.1:9464", auth: { bearerTokenFile: token2 }, metricsAuth: { basic: { username: p, passwordFile: token2 } } }
defaults: { interval: 5s, timeout: 1s }
log: { level: debug }
targets:
  - { name: other, address: 127.0.0.2, port: 81 }
`);
    expect(restartNeeded(base, next)).toEqual([]);
  });

  it('defaults reach discovered targets only at a restart', () => {
    const discovering: Config = { ...base, kubernetes: { ...base.kubernetes, discovery: { ...base.kubernetes.discovery, enabled: true } } };
    const next: Config = { ...load(`${BASE}defaults: { interval: 5s }\n`), kubernetes: discovering.kubernetes };
    expect(restartNeeded(discovering, next)).toEqual(['defaults.interval']);
    expect(restartNeeded(base, load(`${BASE}defaults: { interval: 5s }\n`))).toEqual([]);
  });

  it('server.tls: other files are applied while HTTPS stays on; switching it on or off needs a restart', () => {
    const a = makePki(['DNS:x.test']);
    const b = makePki(['DNS:x.test']);
    try {
      writeFileSync(join(dir, 'a.crt'), a.cert);
      writeFileSync(join(dir, 'a.key'), a.key);
      writeFileSync(join(dir, 'b.crt'), b.cert);
      writeFileSync(join(dir, 'b.key'), b.key);
      const tls = (name: string) => load(BASE.replace('listen: "127.0.0.1:9464"', `listen: "127.0.0.1:9464", tls: { certFile: ${name}.crt, keyFile: ${name}.key }`));
      expect(restartNeeded(tls('a'), tls('b'))).toEqual([]);
      expect(restartNeeded(base, tls('a'))).toEqual(['server.tls']);
      expect(restartNeeded(tls('a'), base)).toEqual(['server.tls']);
    } finally {
      a.cleanup();
      b.cleanup();
    }
  });

  it('says it in one line', () => {
    expect(restartMessage(['server.listen'])).toBe('server.listen changed: restart vipwatch to apply it; the rest of the reload is applied');
    expect(restartMessage(['server.listen', 'state.dir'])).toBe('server.listen, state.dir changed: restart vipwatch to apply them; the rest of the reload is applied');
  });
});
