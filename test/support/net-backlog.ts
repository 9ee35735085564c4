/**
 * A listener whose accept queue is full, so the kernel drops every new SYN: a real, deterministic connect timeout.
 * Node always accepts, so a python3 helper does listen(0) (one queue slot), fills that slot with its own
 * connection and never accepts until told to. `acceptOne()` frees the slot, so the next SYN retransmission
 * (about 1 s after the first SYN) completes the handshake.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { waitFor } from './wait.js';

const SCRIPT = `
import socket, sys
host = sys.argv[1]
fam = socket.AF_INET6 if ':' in host else socket.AF_INET
l = socket.socket(fam, socket.SOCK_STREAM)
l.bind((host, 0))
l.listen(0)
port = l.getsockname()[1]
keep = [socket.create_connection((host, port))]
print(port, flush=True)
for line in sys.stdin:
    if line.strip() == 'accept':
        conn, peer = l.accept()
        keep.append(conn)
        print('accepted %d' % peer[1], flush=True)
`;

export interface FullBacklog {
  host: string;
  port: number;
  /** Accepts one queued connection, freeing the slot; resolves with the accepted client's port. */
  acceptOne(): Promise<number>;
  close(): Promise<void>;
}

/** TcpExt ListenOverflows of this network namespace: SYNs dropped because an accept queue was full. */
export function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const i = lines.findIndex((l) => l.startsWith('TcpExt:'));
  const names = lines[i]!.split(/\s+/);
  const values = lines[i + 1]!.split(/\s+/);
  return Number(values[names.indexOf('ListenOverflows')]);
}

/** Resolves once the kernel dropped a SYN for a full accept queue after `before` was read (polls /proc). */
export async function synDropped(before: number): Promise<void> {
  await waitFor(() => listenOverflows() > before, { timeoutMs: 5000, intervalMs: 5, what: 'a SYN dropped by a full accept queue' });
}

export function hasPython3(): boolean {
  return spawnSync('python3', ['-c', 'pass']).status === 0;
}

export async function fullBacklogListener(host = '127.0.0.1'): Promise<FullBacklog> {
  const child: ChildProcess = spawn('python3', ['-c', SCRIPT, host], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error('full-backlog helper (python3) exited before listening');
  const port = Number(first.value);
  return {
    host,
    port,
    async acceptOne() {
      child.stdin!.write('accept\n');
      const line = await lines.next();
      if (line.done) throw new Error('full-backlog helper exited');
      return Number(String(line.value).split(' ')[1]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}
