import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpProber } from '../../src/probe/http.js';
import { resolverLookup } from '../support/resolver-lookup.js';
import { createProbers } from '../../src/probe/registry.js';
import { TcpProber } from '../../src/probe/tcp.js';
import type { ProbeSpec, Protocol } from '../../src/probe/types.js';
import { dnsServer, type TestDns } from '../support/net-dns.js';
import { httpServer, httpsServer, type TestServer } from '../support/net-servers.js';
import { makePki, type TestPki } from '../support/net-tls.js';

let dns: TestDns;
let web: TestServer;
let web6: TestServer;
let secure: TestServer;
let pki: TestPki;
const sni: (string | false | null)[] = [];
const hosts: (string | undefined)[] = [];
beforeAll(async () => {
  dns = await dnsServer({ 'web.test': ['127.0.0.1'], 'v6.test': ['::1'] });
  web = await httpServer((req, res) => {
    hosts.push(req.headers.host);
    res.end('ok');
  });
  web6 = await httpServer((_req, res) => res.end('ok'), '::1');
  pki = makePki(['DNS:web.test']);
  secure = await httpsServer(pki, (req, res) => {
    sni.push((req.socket as TLSSocket).servername);
    res.end('ok');
  });
});
afterAll(async () => {
  await Promise.all([dns.close(), web.close(), web6.close(), secure.close()]);
  pki.cleanup();
});

function spec(protocol: Protocol, address: string, port: number, timeoutMs = 2000): ProbeSpec {
  const s: ProbeSpec = { target: 't', address, port, protocol, timeoutMs };
  if (protocol !== 'tcp') s.http = { path: '/', method: 'GET', headers: {}, expectStatus: [], maxBodyBytes: 65536 };
  if (protocol === 'https') s.tls = { ca: pki.caCert, insecureSkipVerify: false };
  return s;
}
const run = (lookup: LookupFunction, s: ProbeSpec) => createProbers({ lookup })[s.protocol].probe(s, AbortSignal.timeout(s.timeoutMs));

describe('name resolution through the injected lookup (a DNS server on loopback)', () => {
  it('createProbers: one prober per protocol, http and https shared', () => {
    const p = createProbers();
    expect(p.tcp).toBeInstanceOf(TcpProber);
    expect(p.http).toBeInstanceOf(HttpProber);
    expect(p.https).toBe(p.http);
  });

  it('tcp and http resolve a hostname and connect to its address', async () => {
    const lookup = resolverLookup(dns.resolver());
    const t = await run(lookup, spec('tcp', 'web.test', web.port));
    expect(t).toMatchObject({ ok: true, remoteAddress: '127.0.0.1' });
    const h = await run(lookup, spec('http', 'web.test', web.port));
    expect(h).toMatchObject({ ok: true, remoteAddress: '127.0.0.1', httpStatus: 200 });
    expect(hosts.at(-1)).toBe(`web.test:${web.port}`);
    expect(dns.queries).toContain('web.test A');
  });

  it('an AAAA-only name connects over IPv6', async () => {
    const r = await run(resolverLookup(dns.resolver()), spec('http', 'v6.test', web6.port));
    expect(r).toMatchObject({ ok: true, remoteAddress: '::1' });
  });

  it('https to a hostname sends it as SNI and verifies it', async () => {
    const r = await run(resolverLookup(dns.resolver()), spec('https', 'web.test', secure.port));
    expect(r).toMatchObject({ ok: true, certNotAfter: pki.notAfter });
    expect(sni.at(-1)).toBe('web.test');
  });

  it('dns: NXDOMAIN, for every protocol, with no connection attempted', async () => {
    const lookup = resolverLookup(dns.resolver());
    const before = web.connections;
    for (const protocol of ['tcp', 'http', 'https'] as const) {
      const r = await run(lookup, spec(protocol, 'missing.test', web.port));
      expect(r).toMatchObject({ ok: false, reason: 'dns', errorCode: 'ENOTFOUND', remoteAddress: undefined, sourcePort: undefined });
      expect(r.timings.connectMs).toBeUndefined();
    }
    expect(web.connections).toBe(before);
    expect(dns.queries).toContain('missing.test A');
  });

  it('dns: the deadline passes while the name is still resolving', async () => {
    const mute = createSocket('udp4'); // receives queries, never answers
    await new Promise<void>((r) => mute.bind(0, '127.0.0.1', r));
    const resolver = new Resolver({ timeout: 5000, tries: 1 });
    resolver.setServers([`127.0.0.1:${mute.address().port}`]);
    try {
      const r = await run(resolverLookup(resolver), spec('tcp', 'web.test', web.port, 300));
      expect(r).toMatchObject({ ok: false, reason: 'dns' });
      expect(r.detail).toMatch(/did not resolve within \d+ms/);
    } finally {
      resolver.cancel();
      mute.close();
    }
  });

  it('IP literals (v4 and v6) never touch DNS', async () => {
    let calls = 0;
    const lookup: LookupFunction = (...args) => {
      calls++;
      resolverLookup(dns.resolver())(...args);
    };
    expect(await run(lookup, spec('tcp', '127.0.0.1', web.port))).toMatchObject({ ok: true });
    expect(await run(lookup, spec('http', '127.0.0.1', web.port))).toMatchObject({ ok: true });
    expect(await run(lookup, spec('http', '::1', web6.port))).toMatchObject({ ok: true });
    expect(calls).toBe(0);
  });
});
