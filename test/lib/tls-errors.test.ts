import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createSecureContext, createServer as createTlsServer, type ConnectionOptions, type TlsOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyError as classifyDelivery } from '../../src/alerting/delivery-error.js';
import { errorCode } from '../../src/lib/errors.js';
import { isTlsError, TLS_CODE_PREFIXES, TLS_CODE_WORDS, TLS_ERRNOS } from '../../src/lib/tls-errors.js';
import { classifyError as classifyProbe } from '../../src/probe/classify.js';
import { makePki, type TestPki } from '../support/net-tls.js';

/** A key and a self-signed certificate for IP:127.0.0.1, made by the openssl CLI; `expired` dates it in 2000. */
function selfSigned(dir: string, name: string, expired = false): { key: string; cert: string } {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const [key, cert] = [`${name}.key`, `${name}.crt`];
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key];
  const subject = ['-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1'];
  if (!expired) {
    ssl('req', '-x509', ...ec, '-out', cert, '-days', '2', ...subject);
  } else {
    // `openssl req -days` takes no past dates; `openssl ca` takes explicit ones.
    writeFileSync(join(dir, `${name}.cnf`), [
      '[ca]', 'default_ca=d', '[d]', `database=${name}.db`, 'new_certs_dir=.', `serial=${name}.serial`, 'default_md=sha256',
      'policy=p', 'copy_extensions=copy', 'unique_subject=no', '[p]', 'commonName=supplied', '',
    ].join('\n'));
    writeFileSync(join(dir, `${name}.db`), '');
    writeFileSync(join(dir, `${name}.serial`), '01\n');
    ssl('req', ...ec, '-out', `${name}.csr`, ...subject);
    ssl('ca', '-selfsign', '-batch', '-notext', '-config', `${name}.cnf`, '-keyfile', key, '-in', `${name}.csr`, '-out', cert,
      '-startdate', '20000101000000Z', '-enddate', '20000102000000Z');
  }
  return { key: readFileSync(join(dir, key), 'utf8'), cert: readFileSync(join(dir, cert), 'utf8') };
}

const servers: Server[] = [];
const sockets = new Set<Socket>();

async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Connects with TLS and resolves with the error the client socket emits (the handshake, or the first read after it). */
function clientError(port: number, options: ConnectionOptions = {}): Promise<Error> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ...options });
    s.on('secureConnect', () => s.write('hello'));
    s.on('error', resolve);
    s.on('close', () => reject(new Error('the connection closed without an error')));
  });
}

const tlsServer = (options: TlsOptions) => listen(createTlsServer(options, (s) => s.on('error', () => {})));

let dir: string;
let pki: TestPki;
let dnsOnlyPki: TestPki;
let self: { key: string; cert: string };
let expired: { key: string; cert: string };
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vipwatch-tls-errors-'));
  pki = makePki(['IP:127.0.0.1']);
  dnsOnlyPki = makePki(['DNS:web.test']);
  self = selfSigned(dir, 'self');
  expired = selfSigned(dir, 'expired', true);
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  pki.cleanup();
  dnsOnlyPki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('isTlsError on real errors', () => {
  it.each<[string, () => Promise<unknown>, RegExp]>([
    ['a self-signed server certificate (DEPTH_ZERO_)', async () => clientError(await tlsServer(self)), /^DEPTH_ZERO_SELF_SIGNED_CERT$/],
    ['a certificate from a CA the client does not trust (UNABLE_TO_)', async () => clientError(await tlsServer(pki)), /^UNABLE_TO_VERIFY_LEAF_SIGNATURE$/],
    ['an untrusted chain that ends in its self-signed root (SELF_SIGNED_)',
      async () => clientError(await tlsServer({ key: pki.key, cert: pki.cert + pki.caCert })), /^SELF_SIGNED_CERT_IN_CHAIN$/],
    ['an expired certificate (CERT_)', async () => clientError(await tlsServer(expired), { ca: expired.cert }), /^CERT_HAS_EXPIRED$/],
    ['a certificate that does not name the address (ERR_TLS_)',
      async () => clientError(await tlsServer(dnsOnlyPki), { ca: dnsOnlyPki.caCert }), /^ERR_TLS_CERT_ALTNAME_INVALID$/],
    ['a server that speaks plain HTTP (ERR_SSL_)',
      async () => clientError(await listen(createNetServer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')))), { ca: pki.caCert }),
      /^ERR_SSL_WRONG_VERSION_NUMBER$/],
    ['a server that requires a client certificate (ERR_SSL_ alert)',
      async () => clientError(await tlsServer({ ...pki, requestCert: true, rejectUnauthorized: true, ca: pki.caCert }), { ca: pki.caCert }),
      /^ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED$/],
    ['a key that does not load (ERR_OSSL_)', async () => {
      try {
        createSecureContext({ key: 'not a key', cert: self.cert });
      } catch (err) {
        return err;
      }
      throw new Error('createSecureContext accepted a broken key');
    }, /^ERR_OSSL_/],
  ])('%s', async (_what, make, code) => {
    const err = await make();
    expect(errorCode(err)).toMatch(code);
    expect(isTlsError(err)).toBe(true);
    expect(isTlsError(errorCode(err))).toBe(true);
  });

  it('fetch wraps the TLS error as its cause: found down the cause chain', async () => {
    const port = await tlsServer(self);
    const err = await fetch(`https://127.0.0.1:${port}/`).then(() => undefined, (e: unknown) => e);
    expect(errorCode(err)).toBeUndefined();
    expect(errorCode((err as { cause?: unknown }).cause)).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(isTlsError(err)).toBe(true);
  });

  it('a refused connection is not a TLS error', async () => {
    const server = createNetServer();
    const port = await listen(server);
    await new Promise((r) => server.close(r));
    const err = await clientError(port);
    expect(errorCode(err)).toBe('ECONNREFUSED');
    expect(isTlsError(err)).toBe(false);
  });
});

describe('isTlsError on codes', () => {
  it.each([
    ...TLS_CODE_PREFIXES.map((p) => `${p}SOMETHING`),
    'ERR_TLS_HANDSHAKE_TIMEOUT', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'ERR_OSSL_PEM_NO_START_LINE', 'CERT_NOT_YET_VALID',
    'CERT_REVOKED', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_CRL', 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
    'HOSTNAME_MISMATCH', 'INVALID_CA', 'INVALID_PURPOSE', 'PATH_LENGTH_EXCEEDED', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
    ...TLS_ERRNOS,
    // A word anywhere: nodemailer's failed STARTTLS, undici's proxy TLS failure.
    'ETLS', 'UND_ERR_PRX_TLS', 'X_VERIFY_Y', 'X_ALTNAME_Y',
  ])('%s is TLS', (code) => {
    expect(isTlsError(code)).toBe(true);
    expect(isTlsError(Object.assign(new Error('x'), { code }))).toBe(true);
  });

  it.each([
    'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EMFILE', 'EPROTONOSUPPORT',
    'EPROTOTYPE', 'EAUTH', 'ESOCKET', 'EENVELOPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT',
    'HPE_INVALID_CONSTANT', 'HTTPParserError', 'ABORT_ERR', 'VIPWATCH_DEADLINE', 'CRL_HAS_EXPIRED', 'ERROR', '',
  ])('%s is not TLS', (code) => {
    expect(isTlsError(code)).toBe(false);
    expect(isTlsError(Object.assign(new Error('x'), { code }))).toBe(false);
  });

  it('looks four causes down, no further; ignores non-string codes and non-errors', () => {
    const tls = Object.assign(new Error('tls'), { code: 'CERT_HAS_EXPIRED' });
    const wrapped = (depth: number): Error => (depth === 0 ? tls : new Error(`wrap ${depth}`, { cause: wrapped(depth - 1) }));
    expect(isTlsError(wrapped(4))).toBe(true);
    expect(isTlsError(wrapped(5))).toBe(false);
    expect(isTlsError(Object.assign(new Error('x'), { code: 1 }))).toBe(false);
    for (const v of [undefined, null, 0, {}, new Error('no code')]) expect(isTlsError(v)).toBe(false);
  });
});

/** What each module recognised before it used isTlsError, copied from their last own versions. */
const BEFORE = {
  probe: /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_EXCEEDED)/,
  delivery: /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|CERT_|HOSTNAME_MISMATCH|EPROTO$)/,
  kube: /CERT|SSL|TLS|SELF_SIGNED|VERIFY|ALTNAME/,
};

describe('the union of what the probe, alert delivery and the Kubernetes client recognised', () => {
  // Node's names for OpenSSL's X509_V_ERR_* results, Node/undici/OS codes, and made-up ones built from every fragment.
  const fragments = [...TLS_CODE_PREFIXES, ...TLS_ERRNOS, ...TLS_CODE_WORDS, 'E', 'X_', 'UND_ERR_', 'CRL_', 'PROTO', 'EPROTON'];
  const corpus = [
    'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_CRL', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
    'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE', 'CRL_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED',
    'CRL_NOT_YET_VALID', 'CRL_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
    'ERROR_IN_CRL_LAST_UPDATE_FIELD', 'ERROR_IN_CRL_NEXT_UPDATE_FIELD', 'OUT_OF_MEM', 'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_CHAIN_TOO_LONG',
    'CERT_REVOKED', 'INVALID_CA', 'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH',
    'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_OSSL_UNSUPPORTED', 'EPROTO', 'ETLS', 'ECONNRESET',
    'ECONNREFUSED', 'UND_ERR_SOCKET', 'UND_ERR_PRX_TLS', 'HPE_INVALID_CONSTANT',
    ...fragments.flatMap((a) => fragments.flatMap((b) => [a + b, `${a}${b}_X`, `X_${a}${b}`])),
  ];

  it('isTlsError answers yes exactly where one of the three said yes', () => {
    const disagree = corpus.filter((c) => isTlsError(c) !== Object.values(BEFORE).some((re) => re.test(c)));
    expect(disagree).toEqual([]);
  });

  it('the probe and alert delivery both classify through it, each in its own order', () => {
    const err = (code: string) => Object.assign(new Error('x'), { code });
    const live = new AbortController().signal;
    // EPROTO was delivery's alone, ERR_OSSL_ the probe's, ETLS the Kubernetes client's: now each module's.
    for (const code of ['EPROTO', 'ERR_OSSL_UNSUPPORTED', 'ETLS', 'CERT_HAS_EXPIRED']) {
      expect(classifyProbe(err(code), 'tls').reason).toBe('tls');
      expect(classifyDelivery(new Error('send failed', { cause: err(code) }), live).reason).toBe('tls');
    }
    for (const code of ['ERR_OSSL_UNSUPPORTED', 'ETLS', 'CERT_HAS_EXPIRED']) expect(classifyProbe(err(code), 'request').reason).toBe('tls');
    // A bare EPROTO after the handshake (or on a plain-HTTP target) is not called TLS by the prober: exact before broad.
    expect(classifyProbe(err('EPROTO'), 'request').reason).toBe('protocol');
    // Checks that come first still win: a refused connection anywhere in the chain, a reset before the TLS list.
    expect(classifyDelivery(new Error('x', { cause: Object.assign(err('ECONNREFUSED'), { cause: err('CERT_HAS_EXPIRED') }) }), live).reason)
      .toBe('connection_refused');
    expect(classifyProbe(err('ECONNRESET'), 'tls').reason).toBe('reset');
  });
});
