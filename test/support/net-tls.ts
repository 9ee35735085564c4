/** Test PKI made by the openssl CLI: a CA and a server certificate it signed, for names the test chooses. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  caCert: string;
  /** Server key and certificate (signed by caCert). */
  key: string;
  cert: string;
  /** Path of caCert on disk, as a config's tls.caFile would name it. */
  caFile: string;
  /** The certificate's notAfter, epoch ms, as openssl reports it. */
  notAfter: number;
  cleanup(): void;
}

/** Names are SAN entries, e.g. ['DNS:web.test', 'IP:127.0.0.1']. */
export function makePki(names: string[], days = 30): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'vipwatch-pki-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' }).toString();
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt',
    '-days', String(days + 1), '-subj', '/CN=vipwatch test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=vipwatch test server');
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=${names.join(',')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', String(days), '-extfile', 'ext.cnf');
  const enddate = ssl('x509', '-in', 'server.crt', '-noout', '-enddate').trim().replace(/^notAfter=/, '');
  return {
    caCert: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
    cert: readFileSync(join(dir, 'server.crt'), 'utf8'),
    caFile: join(dir, 'ca.crt'),
    notAfter: Date.parse(enddate),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
