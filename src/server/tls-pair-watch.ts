/**
 * The server's certificate/key pair, kept current: both files are stat'ed every `intervalMs` (a stat follows
 * symlinks, so a Kubernetes Secret's symlink swap and cert-manager's or certbot's rename are seen like an edit in
 * place); a changed pair that checks out replaces the served one for new connections, a broken one is logged and the
 * previous pair kept.
 */
import { stat } from 'node:fs/promises';
import type { X509Certificate } from 'node:crypto';
import { readTlsPair, type ServerTlsConfig } from '../config/sections/server.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

export interface TlsPair {
  cert: string;
  key: string;
}

export class TlsPairWatch {
  private files: ServerTlsConfig;
  /** What the last look at the files saw (mtime, size, inode of each); the pair is re-read only when it changes. */
  private seen = '';
  /** The pair in use: a re-read with the same contents (a touch) is not applied again. */
  private current?: TlsPair;
  private timer?: NodeJS.Timeout;
  private checking = false;

  constructor(
    files: ServerTlsConfig,
    private readonly logger: Logger,
    private readonly apply: (pair: TlsPair) => void,
    private readonly intervalMs = 2000,
  ) {
    this.files = files;
  }

  /** Reads the pair now; throws (naming the file and the problem) when it cannot serve. */
  load(): TlsPair {
    const pair = readTlsPair(this.files);
    this.current = { cert: pair.cert, key: pair.key };
    return this.current;
  }

  start(): void {
    void this.signature().then((s) => (this.seen = s));
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Other files (a config reload named new paths): used from now on when they check out, else the old pair stays. */
  setFiles(files: ServerTlsConfig): void {
    if (files.certFile === this.files.certFile && files.keyFile === this.files.keyFile) return;
    this.files = files;
    this.seen = '';
    void this.check();
  }

  /** Looks at the files once (also what the timer runs). */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const sig = await this.signature();
      if (sig === this.seen) return;
      this.seen = sig;
      let next: TlsPair & { x509: X509Certificate };
      try {
        next = readTlsPair(this.files);
      } catch (err) {
        this.logger.error('server TLS certificate not reloaded: the new files are unusable; still serving the previous certificate', {
          certFile: this.files.certFile, keyFile: this.files.keyFile, error: errorMessage(err),
        });
        return;
      }
      if (this.current && next.cert === this.current.cert && next.key === this.current.key) return;
      this.apply({ cert: next.cert, key: next.key });
      this.current = { cert: next.cert, key: next.key };
      this.logger.info('server TLS certificate reloaded', {
        certFile: this.files.certFile, subject: next.x509.subject, serialNumber: next.x509.serialNumber, validTo: next.x509.validTo,
      });
    } finally {
      this.checking = false;
    }
  }

  private async signature(): Promise<string> {
    const one = async (file: string) => {
      try {
        const s = await stat(file);
        return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code ?? 'error';
      }
    };
    return `${await one(this.files.certFile)}|${await one(this.files.keyFile)}`;
  }
}
