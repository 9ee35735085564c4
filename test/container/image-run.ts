/**
 * Runs an image the way `docker run` does, without a container engine: a fresh buildah container gives the image's
 * filesystem; the process starts in namespaces of its own (mount, UTS, PID: the entrypoint is PID 1, as under docker;
 * network: a fresh namespace joined to the host by a veth pair, so a published port is reached at the container's
 * address and nothing listens on the host's interfaces), chrooted into that filesystem, as the image's USER, in its
 * WORKDIR, with its Env, ENTRYPOINT and CMD (or the arguments given, as `docker run IMAGE args...`). Volumes are bind
 * mounts of host paths. `exec` is `docker exec` (nsenter into the same namespaces as the same user); `stop` is
 * `docker stop`: SIGTERM to PID 1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildah } from './buildah.js';
import { execTool, mustRun, type ExecResult } from './exec.js';
import type { ImageConfig } from './image-config.js';

export interface RunOptions {
  image: string;
  config: ImageConfig;
  /** Volumes: container path -> host path (a file or a directory). */
  binds?: Record<string, string>;
  /** Replaces the image's CMD, as `docker run IMAGE args...` does. */
  args?: readonly string[];
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
let seq = 0;

/**
 * Inside a private mount (and UTS) namespace, as root: a minimal /dev, the volumes, then the container process.
 * Arguments: ROOT, then pairs HOST CONTAINER_PATH, then `--` and the command.
 */
const SETUP = `set -eu
R=$1; shift
hostname vipwatch-test
mount -t tmpfs -o mode=755,nosuid tmpfs "$R/dev"
for d in null zero full random urandom tty; do : > "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
while [ "$1" != -- ]; do
  if [ -d "$1" ]; then mkdir -p "$R$2"; else mkdir -p "$(dirname "$R$2")"; [ -e "$R$2" ] || : > "$R$2"; fi
  mount --bind "$1" "$R$2"
  shift 2
done
shift
exec "$@"`;

export class ContainerRun {
  /** stdout and stderr, line by line, in arrival order. */
  readonly logs: string[] = [];
  readonly exited: Promise<Exit>;
  private exit?: Exit;
  private waiters: (() => void)[] = [];
  private pid1?: number;

  private constructor(
    private readonly child: ChildProcess,
    private readonly ctr: string,
    private readonly netns: string,
    readonly address: string,
    readonly uid: number,
    readonly gid: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    for (const stream of [child.stdout!, child.stderr!]) {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          this.logs.push(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
        this.wake();
      });
    }
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        this.wake();
        resolve(this.exit);
      });
    });
  }

  static async start(o: RunOptions): Promise<ContainerRun> {
    const n = ++seq;
    const ctr = await buildah(['from', '--name', `vwct-${process.pid}-${n}`, o.image]);
    let netns: string | undefined;
    try {
      const root = await buildah(['mount', ctr]);
      const user = resolveUser(root, o.config.user);
      netns = `vwct-${process.pid}-${n}`;
      const address = await makeNetns(netns, n);
      const env = containerEnv(o.config.env, user.home);
      const binds = Object.entries(o.binds ?? {}).flatMap(([inside, host]) => [host, inside]);
      const command = [...o.config.entrypoint, ...(o.args ?? o.config.cmd)];
      const child = spawn('ip', [
        'netns', 'exec', netns,
        'unshare', '--mount', '--uts', '--propagation', 'private', '--',
        'sh', '-c', SETUP, 'setup', root, ...binds, '--',
        'unshare', '--pid', '--fork', '--kill-child', '--mount-proc', `--root=${root}`, `--wd=${o.config.workingDir}`,
        '--setuid', String(user.uid), '--setgid', String(user.gid), '--', ...command,
      ], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      return new ContainerRun(child, ctr, netns, address, user.uid, user.gid, env);
    } catch (err) {
      if (netns) await execTool('ip', ['netns', 'del', netns]);
      await buildah(['rm', ctr]).catch(() => {});
      throw err;
    }
  }

  /** The container's PID 1 as the host sees it (the one child of the PID-namespace `unshare`). */
  async pid(timeoutMs = 10_000): Promise<number> {
    if (this.pid1) return this.pid1;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.exit) {
      const children = readChildren(this.child.pid!);
      if (children.length) return (this.pid1 = children[0]!);
      await sleep(20);
    }
    throw new Error(`the container's PID 1 did not appear${this.exit ? ` (exited ${this.exit.code ?? this.exit.signal})` : ''}:\n${this.logs.join('\n')}`);
  }

  /** Waits for a log line matching `re` (or the process's end, which fails). */
  async waitForLog(re: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.logs.find((l) => re.test(l));
      if (hit) return hit;
      if (this.exit) throw new Error(`the container exited (${this.exit.code ?? this.exit.signal}) before logging ${re}:\n${this.logs.join('\n')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no log line ${re} within ${timeoutMs} ms:\n${this.logs.join('\n')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  /** `docker exec`: argv in the container's namespaces and root, as its user, in its working directory. */
  async exec(argv: readonly string[], timeoutMs = 30_000): Promise<ExecResult> {
    const pid = String(await this.pid());
    return execTool('nsenter', ['-t', pid, '-m', '-u', '-n', '-p', '-r', '-w', '-S', String(this.uid), '-G', String(this.gid), '--', ...argv], { env: this.env, timeoutMs });
  }

  /** `docker stop`: SIGTERM to PID 1, then the exit within `timeoutMs` (undefined when it did not end in time). */
  async stop(timeoutMs = 10_000): Promise<{ exit?: Exit; ms: number }> {
    const pid = await this.pid();
    const t0 = Date.now();
    process.kill(pid, 'SIGTERM');
    const exit = await Promise.race([this.exited, sleep(timeoutMs).then(() => undefined)]);
    return { exit, ms: Date.now() - t0 };
  }

  /** Kills what still runs, deletes the network namespace and the buildah container. Safe to repeat. */
  async dispose(): Promise<void> {
    if (!this.exit) {
      for (const pid of [this.pid1, this.child.pid]) if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      await Promise.race([this.exited, sleep(5000)]);
    }
    await execTool('ip', ['netns', 'del', this.netns]);
    await buildah(['umount', this.ctr]).catch(() => {});
    await buildah(['rm', this.ctr]).catch(() => {});
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

/**
 * A network namespace with lo up and a veth pair to the host on a /30 of 198.19.254.0/24 (benchmark range, no real
 * network uses it); returns the container's address.
 */
async function makeNetns(netns: string, n: number): Promise<string> {
  const base = ((process.pid * 4 + n) % 64) * 4;
  const hostIp = `198.19.254.${base + 1}`;
  const ctrIp = `198.19.254.${base + 2}`;
  const hostIf = `vw${process.pid % 1_000_000}h${n % 100}`;
  await mustRun('ip', ['netns', 'add', netns]);
  try {
    await mustRun('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    await mustRun('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await mustRun('ip', ['addr', 'add', `${hostIp}/30`, 'dev', hostIf]);
    await mustRun('ip', ['link', 'set', hostIf, 'up']);
    await mustRun('ip', ['-n', netns, 'addr', 'add', `${ctrIp}/30`, 'dev', 'eth0']);
    await mustRun('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
    await mustRun('ip', ['-n', netns, 'route', 'add', 'default', 'via', hostIp]);
  } catch (err) {
    // Deleting the namespace deletes the veth pair with it.
    await execTool('ip', ['netns', 'del', netns]);
    throw err;
  }
  return ctrIp;
}

/** USER as docker reads it: a name or uid, optionally `:group`, looked up in the image's own /etc/passwd and /etc/group. */
export function resolveUser(root: string, user: string): { uid: number; gid: number; home: string } {
  const [u = '', g] = user.split(':');
  const passwd = readTable(join(root, 'etc/passwd'));
  const entry = passwd.find((f) => f[0] === u || (u !== '' && f[2] === u));
  const uid = u === '' ? 0 : entry ? Number(entry[2]) : /^\d+$/.test(u) ? Number(u) : NaN;
  if (Number.isNaN(uid)) throw new Error(`USER ${user}: no such user in the image's /etc/passwd`);
  let gid = entry ? Number(entry[3]) : 0;
  if (g !== undefined) {
    const group = readTable(join(root, 'etc/group')).find((f) => f[0] === g || f[2] === g);
    gid = group ? Number(group[2]) : Number(g);
    if (Number.isNaN(gid)) throw new Error(`USER ${user}: no such group in the image's /etc/group`);
  }
  return { uid, gid, home: entry?.[5] || '/' };
}

function readTable(file: string): string[][] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split(':')) : [];
}

/** The image's Env, plus what docker adds: PATH when the image sets none, HOME of the user, HOSTNAME. */
function containerEnv(imageEnv: readonly string[], home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: DEFAULT_PATH, HOSTNAME: 'vipwatch-test', HOME: home };
  for (const kv of imageEnv) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

function readChildren(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
