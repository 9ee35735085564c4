import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  key: string;
  cert: string;
  /** The certificate file, for `tls.caFile` in a config. */
  certFile: string;
  dir: string;
  cleanup(): void;
}

/** A fresh self-signed certificate for 127.0.0.1 and localhost, made by the openssl CLI. */
export function makeCert(cn = 'localhost'): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'vipwatch-cert-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-keyout', keyFile, '-out', certFile, '-subj', `/CN=${cn}`,
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  return {
    key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile, dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
