import { X509Certificate } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/lib/errors.js';
import { createLogger } from '../../src/lib/logger.js';
import { HttpServer, text } from '../../src/server/http-server.js';
import { makePki, type TestPki } from '../support/net-tls.js';
import { waitFor } from '../support/wait.js';

/** The serial number of the certificate a new connection is served, and the body of GET /-/healthy over it. */
function handshake(port: number, ca: string): Promise<{ serial: string; body: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca, servername: 'vipwatch.test' }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      let body = '';
      s.on('data', (d) => (body += d));
      s.on('end', () => resolve({ serial, body }));
      s.write('GET /-/healthy HTTP/1.1\r\nHost: vipwatch.test\r\nConnection: close\r\n\r\n');
    });
    s.on('error', reject);
  });
}

const serialOf = (pki: TestPki) => new X509Certificate(pki.cert).serialNumber;

describe('server.tls: HTTPS with the pair reloaded when its files change (the real HttpServer on 127.0.0.1)', () => {
  let dir: string;
  let a: TestPki;
  let b: TestPki;
  let server: HttpServer;
  let port: number;
  const lines: { level: string; msg: string; [k: string]: unknown }[] = [];
  const certFile = () => join(dir, 'tls.crt');
  const keyFile = () => join(dir, 'tls.key');
  /** As cert-manager and Kubernetes do: written aside, then renamed over the served files. */
  const install = (cert: string, key: string) => {
    writeFileSync(join(dir, 'tls.crt.new'), cert);
    writeFileSync(join(dir, 'tls.key.new'), key);
    renameSync(join(dir, 'tls.key.new'), keyFile());
    renameSync(join(dir, 'tls.crt.new'), certFile());
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vipwatch-srv-tls-'));
    a = makePki(['DNS:vipwatch.test', 'IP:127.0.0.1']);
    b = makePki(['DNS:vipwatch.test', 'IP:127.0.0.1']);
    install(a.cert, a.key);
    const logger = createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l)) });
    server = new HttpServer(logger, { tls: { certFile: certFile(), keyFile: keyFile() }, tlsCheckIntervalMs: 50 }).get('/-/healthy', () => text('ok\n'));
    port = (await server.listen('127.0.0.1', 0) as AddressInfo).port;
  });

  afterAll(async () => {
    await server?.close();
    a?.cleanup();
    b?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS with the configured pair', async () => {
    const r = await handshake(port, a.caCert);
    expect(r.serial).toBe(serialOf(a));
    expect(r.body).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(r.body).toMatch(/\r\n\r\n(3\r\n)?ok\n/);
  });

  it('serves a replaced pair to new connections, keeps the last good one when a replacement is broken', async () => {
    install(b.cert, b.key);
    await waitFor(async () => (await handshake(port, b.caCert).catch(() => undefined))?.serial === serialOf(b), { what: 'the new certificate served' });
    expect(lines.find((l) => l.msg === 'server TLS certificate reloaded')).toMatchObject({ level: 'info', serialNumber: serialOf(b) });

    // Broken: a certificate that does not parse, then a certificate with another pair's key.
    const errors = () => lines.filter((l) => l.msg.startsWith('server TLS certificate not reloaded'));
    install('not a certificate\n', b.key);
    await waitFor(() => errors().length >= 1, { what: 'the broken certificate reported' });
    expect(errors()[0]).toMatchObject({ level: 'error', certFile: certFile(), error: expect.stringContaining('is not a PEM certificate') });
    expect((await handshake(port, b.caCert)).serial).toBe(serialOf(b));
    install(a.cert, b.key);
    await waitFor(() => errors().at(-1)?.error?.toString().includes('not a usable pair'), { what: 'the mismatched pair reported' });
    expect(JSON.stringify(lines)).not.toContain('PRIVATE KEY');
    expect((await handshake(port, b.caCert)).serial).toBe(serialOf(b));

    // Fixed: served again.
    install(a.cert, a.key);
    await waitFor(async () => (await handshake(port, a.caCert).catch(() => undefined))?.serial === serialOf(a), { what: 'the fixed pair served' });
  });
});

describe('server.tls validation', () => {
  it('refuses a pair that cannot serve at load, naming the files; accepts a good one', () => {
    const a = makePki(['DNS:x.test']);
    const b = makePki(['DNS:x.test']);
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-srv-tls-v-'));
    try {
      writeFileSync(join(dir, 'a.crt'), a.cert);
      writeFileSync(join(dir, 'a.key'), a.key);
      writeFileSync(join(dir, 'b.key'), b.key);
      const load = (tls: string) => {
        try {
          return parseConfig(`server: { tls: ${tls} }\n`, join(dir, 'vipwatch.yaml'), { env: {} });
        } catch (err) {
          if (err instanceof ConfigError) return err.problems;
          throw err;
        }
      };
      expect(load('{ certFile: a.crt, keyFile: a.key }')).toMatchObject({ server: { tls: { certFile: join(dir, 'a.crt'), keyFile: join(dir, 'a.key') } } });
      expect(load('{ certFile: a.crt, keyFile: b.key }')).toEqual([expect.stringMatching(/vipwatch\.yaml:1:\d+: server\.tls: .*a\.crt and .*b\.key are not a usable pair: .*key values mismatch/)]);
      expect(load('{ certFile: a.crt, keyFile: nope.key }')).toEqual([expect.stringContaining(`server.tls: cannot read ${join(dir, 'nope.key')}: ENOENT`)]);
      expect(load('{ certFile: a.crt }')).toEqual([expect.stringContaining('server.tls.keyFile: is required')]);
    } finally {
      a.cleanup();
      b.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
