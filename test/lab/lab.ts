import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IFACE, LAB, NODES, type NodeName } from './addresses.js';
import { inNetns, LabError, run, type CommandResult, type RunOptions } from './exec.js';
import { outageRule, refuseRule, rpFilterArgv, synLossRule, type RpFilterMode } from './faults.js';
import { detectIptables, iptablesArgv, type IptablesBackend } from './iptables.js';
import { allNamespaces, defaultPrefix, LAB_NETNS_PATTERN, labNames, type LabNames } from './names.js';
import { parseNetstat } from './netstat.js';
import { ownerAlive, readOwner, removeOwner, writeOwner } from './owner.js';
import { RESPONSE_TIMEOUT_MS, summarize, type ProbeReport, type ProbeSummary } from './probe-report.js';
import { netstatArgv, topologyCommands } from './topology.js';

export interface LabOptions {
  /** `vw` + up to 4 digits; default `vw<pid % 10000>` (the next free one if a live lab already holds it). */
  readonly prefix?: string;
  /** Default: the first of nft, legacy that accepts HMARK, statistic and REJECT in a throwaway namespace. */
  readonly iptables?: IptablesBackend;
  /** Progress lines (setup steps, teardown), for the demo or debugging. */
  readonly log?: (line: string) => void;
  /** Where the compiled lab scripts (backend.js, client-probe.js) are; default dist/test/lab of this checkout. */
  readonly scriptsDir?: string;
}

export interface ProbeRequest {
  /** Number of fresh connections (each from a new local port), unless `ports` is given. Default 60. */
  readonly count?: number;
  /** Exact local ports to connect from: the same ports reproduce the same HMARK choice. */
  readonly ports?: readonly number[];
  /** Connect deadline per attempt. Default 1500 ms: above one SYN retransmission (about 1 s), below the second (about 3 s). The response then gets 5 s. */
  readonly timeoutMs?: number;
  /** Attempts in flight at once. Default 10. */
  readonly concurrency?: number;
}

export type LabProbeReport = ProbeReport & { readonly summary: ProbeSummary };

export type PreflightResult = { readonly ok: true; readonly iptables: IptablesBackend } | { readonly ok: false; readonly reason: string };

/** First local port the lab hands to probes; each probe gets fresh ones, so no tuple meets a TIME_WAIT left by an earlier one. */
const FIRST_PROBE_PORT = 20_000;
const LAST_PROBE_PORT = 60_999;

/** Prefixes held by labs of this process (two Lab objects in one process must not share one). */
const claimedHere = new Set<string>();

/**
 * A MetalLB-L2-like cluster in network namespaces on the real kernel: a client on the nodes' LAN, three nodes, node-1
 * announcing the VIP and spreading flows by HMARK + policy routing, node-2/3 answering by direct server return.
 * Setup and teardown are idempotent; a failed setup tears down what it made.
 */
export class Lab {
  private _names: LabNames;
  private readonly prefixGiven: boolean;
  private readonly log: (line: string) => void;
  private readonly scriptsDir: string;
  private _iptables: IptablesBackend | undefined;
  private readonly children = new Set<ChildProcess>();
  private up = false;
  private synLossPercent = 0;
  private outage = false;
  private nextPort = FIRST_PROBE_PORT;
  private claimed = false;

  constructor(opts: LabOptions = {}) {
    this.prefixGiven = opts.prefix !== undefined;
    this._names = labNames(opts.prefix ?? defaultPrefix());
    this._iptables = opts.iptables;
    this.log = opts.log ?? (() => {});
    this.scriptsDir = opts.scriptsDir ?? defaultScriptsDir();
  }

  get names(): LabNames {
    return this._names;
  }

  /** The iptables backend in use (known after setup). */
  get iptables(): IptablesBackend | undefined {
    return this._iptables;
  }

  readonly addresses = LAB;

  nodeNs(node: NodeName): string {
    return this._names.nodes[node];
  }

  /** Root, a working `ip netns`, and an iptables backend with HMARK; `reason` is one line fit for a skip message. */
  static async preflight(): Promise<PreflightResult> {
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { ok: false, reason: 'not root (network namespaces need CAP_SYS_ADMIN)' };
    const ipOk = await run(['ip', 'netns', 'list'], { allowFail: true }).catch(() => undefined);
    if (!ipOk || ipOk.code !== 0) return { ok: false, reason: `\`ip netns\` does not work here (${ipOk?.stderr.trim() || 'iproute2 missing?'})` };
    const ns = `vw${process.pid % 10_000}-check`;
    const added = await run(['ip', 'netns', 'add', ns], { allowFail: true });
    if (added.code !== 0) return { ok: false, reason: `cannot create a network namespace: ${added.stderr.trim()}` };
    try {
      const found = await detectIptables(ns).catch((err: unknown) => ({ backend: undefined, problems: [String(err)] }));
      if (!found.backend) return { ok: false, reason: `no iptables backend with HMARK/statistic/REJECT in a namespace: ${found.problems.join('; ')}` };
      return { ok: true, iptables: found.backend };
    } finally {
      await run(['ip', 'netns', 'del', ns], { allowFail: true });
    }
  }

  /**
   * Removes namespaces of earlier runs whose owner process is gone (crashed runs, killed tests). Namespaces of a live lab
   * in another process are left alone, so parallel runs are safe. Returns the namespaces removed.
   */
  static async cleanupStale(log: (line: string) => void = () => {}): Promise<string[]> {
    const removed: string[] = [];
    const byPrefix = new Map<string, string[]>();
    for (const ns of await listNetns()) {
      const m = LAB_NETNS_PATTERN.exec(ns);
      if (!m) continue;
      byPrefix.set(m[1]!, [...(byPrefix.get(m[1]!) ?? []), ns]);
    }
    for (const [prefix, namespaces] of byPrefix) {
      if (ownerAlive(readOwner(prefix))) continue;
      for (const ns of namespaces) {
        await deleteNetns(ns);
        removed.push(ns);
      }
      removeOwner(prefix);
      log(`removed stale lab namespaces ${namespaces.join(', ')}`);
    }
    return removed;
  }

  async setup(): Promise<void> {
    if (this.up) return;
    for (const s of ['backend', 'client-probe']) {
      if (!existsSync(this.script(s))) throw new LabError('LAB_NOT_BUILT', `${this.script(s)} is missing: run \`npm run build\` first`);
    }
    await Lab.cleanupStale(this.log);
    this.claimPrefix();
    const t0 = Date.now();
    try {
      if (!this._iptables) this._iptables = await this.detectBackend();
      for (const ns of allNamespaces(this._names)) await run(['ip', 'netns', 'add', ns]);
      for (const argv of topologyCommands(this._names, this._iptables)) await run(argv);
      await Promise.all(NODES.map((n) => this.startBackend(n)));
      this.up = true;
      this.log(`lab ${this._names.prefix} up in ${Date.now() - t0} ms (iptables-${this._iptables})`);
    } catch (err) {
      await this.teardown();
      throw err;
    }
  }

  /** Kills every process the lab started, deletes its namespaces (and with them every veth and bridge). Safe to repeat. */
  async teardown(): Promise<void> {
    await Promise.all([...this.children].map((c) => stopChild(c)));
    this.children.clear();
    // Only a claimed prefix is ours to delete: an unclaimed one may belong to a live lab of another process.
    const mine = this.claimed ? (await listNetns()).filter((ns) => LAB_NETNS_PATTERN.exec(ns)?.[1] === this._names.prefix) : [];
    for (const ns of mine) await deleteNetns(ns);
    this.release();
    if (mine.length) this.log(`lab ${this._names.prefix} torn down (${mine.length} namespaces)`);
    this.up = false;
    this.synLossPercent = 0;
    this.outage = false;
  }

  /** The same, synchronously: for a process 'exit' handler, where nothing async runs any more. */
  teardownSync(): void {
    for (const c of this.children) c.kill('SIGKILL');
    this.children.clear();
    const list = this.claimed ? (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '') : '';
    for (const ns of parseNetnsList(list).filter((n) => LAB_NETNS_PATTERN.exec(n)?.[1] === this._names.prefix)) {
      for (const pid of (spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '').split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      spawnSync('ip', ['netns', 'del', ns]);
    }
    this.release();
    this.up = false;
  }

  /** Runs argv inside namespace `ns` and waits for it; throws LabError on a non-zero exit unless `allowFail`. */
  exec(ns: string, argv: readonly string[], opts?: RunOptions): Promise<CommandResult> {
    return run(inNetns(ns, argv), opts);
  }

  /**
   * Starts argv inside namespace `ns` and returns it; the lab kills it on teardown. stdout/stderr are pipes by default:
   * read them (or pass `stdio`), or a chatty child blocks.
   */
  spawnIn(ns: string, argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', inNetns(ns, argv).slice(1), { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.once('error', () => this.children.delete(child));
    return child;
  }

  /** Node binary + compiled lab script, for spawnIn. */
  nodeScript(name: string, args: readonly string[] = []): string[] {
    return [process.execPath, this.script(name), ...args];
  }

  /** rp_filter on a node (all, default, and both interfaces): 1 drops the SYNs forwarded over the cluster network. */
  async setRpFilter(node: NodeName, mode: RpFilterMode): Promise<void> {
    if (![0, 1, 2].includes(mode)) throw new LabError('LAB_BAD_ARGUMENT', `rp_filter mode must be 0, 1 or 2, got ${String(mode)}`);
    await run(rpFilterArgv(this.nodeNs(node), mode));
    this.log(`${node}: rp_filter=${mode}`);
  }

  /** Random loss of SYNs to the VIP at the announcer; 0 removes it. */
  async setSynLoss(percent: number): Promise<void> {
    if (!(percent >= 0 && percent <= 100)) throw new LabError('LAB_BAD_ARGUMENT', `SYN loss must be 0..100 %, got ${percent}`);
    const ns = this.nodeNs(LAB.announcer);
    if (this.synLossPercent > 0) await this.ensureRule(ns, (op) => synLossRule(op, this.synLossPercent), false);
    if (percent > 0) await this.ensureRule(ns, (op) => synLossRule(op, percent), true);
    this.synLossPercent = percent;
    this.log(`announcer: SYN loss ${percent}%`);
  }

  /** VIP gone: the announcer stops answering ARP for it and drops whatever still reaches it. */
  async setOutage(on: boolean): Promise<void> {
    const ns = this.nodeNs(LAB.announcer);
    if (on) {
      await this.ensureRule(ns, outageRule, true);
      await run(['ip', '-n', ns, 'addr', 'del', `${LAB.vip}/32`, 'dev', IFACE.lan], { allowFail: true });
    } else {
      const has = await run(['ip', '-n', ns, '-o', 'addr', 'show', 'dev', IFACE.lan, 'to', `${LAB.vip}/32`]);
      if (!has.stdout.trim()) await run(['ip', '-n', ns, 'addr', 'add', `${LAB.vip}/32`, 'dev', IFACE.lan]);
      await this.ensureRule(ns, outageRule, false);
    }
    this.outage = on;
    this.log(`VIP outage ${on ? 'on' : 'off'}`);
  }

  /** That node's backend answers SYNs to the VIP with a TCP reset. */
  async setRefusing(node: NodeName, on: boolean): Promise<void> {
    await this.ensureRule(this.nodeNs(node), refuseRule, on);
    this.log(`${node}: refusing ${on ? 'on' : 'off'}`);
  }

  /** TcpExt IPReversePathFilter of the node's namespace: packets the kernel dropped for failing the reverse-path check. */
  async rpFilterDrops(node: NodeName): Promise<number> {
    const v = (await this.netstat(this.nodeNs(node))).TcpExt?.IPReversePathFilter;
    if (v === undefined) throw new LabError('LAB_COMMAND_FAILED', `no TcpExt IPReversePathFilter in /proc/net/netstat of ${node}`);
    return v;
  }

  /** All /proc/net/netstat groups of a namespace. */
  async netstat(ns: string): Promise<Record<string, Record<string, number>>> {
    return parseNetstat((await run(netstatArgv(ns))).stdout);
  }

  /** Hands out local ports never used before in this lab (see FIRST_PROBE_PORT). */
  allocatePorts(n: number): number[] {
    if (this.nextPort + n - 1 > LAST_PROBE_PORT) this.nextPort = FIRST_PROBE_PORT;
    const ports = Array.from({ length: n }, (_, k) => this.nextPort + k);
    this.nextPort += n;
    return ports;
  }

  /** Fresh connections from the client namespace to VIP:80 by the client-probe script; results measured in there. */
  async probe(req: ProbeRequest = {}): Promise<LabProbeReport> {
    const ports = req.ports ?? this.allocatePorts(req.count ?? 60);
    const timeoutMs = req.timeoutMs ?? 1500;
    const concurrency = req.concurrency ?? 10;
    const bound = Math.ceil(ports.length / concurrency) * (timeoutMs + RESPONSE_TIMEOUT_MS) + 15_000;
    const out = await run(
      inNetns(this._names.client, this.nodeScript('client-probe', [
        '--host', LAB.vip, '--port', String(LAB.vipPort), '--timeout-ms', String(timeoutMs), '--concurrency', String(concurrency), '--ports', ports.join(','),
      ])),
      { timeoutMs: bound },
    ).catch((err: unknown) => {
      throw new LabError('LAB_PROBE_FAILED', `client probe failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    });
    const report = JSON.parse(out.stdout) as ProbeReport;
    return { ...report, summary: summarize(report) };
  }

  private script(name: string): string {
    return join(this.scriptsDir, `${name}.js`);
  }

  /** Picks the prefix: a live lab in another process keeps its own; with the default prefix, move on to the next free one. */
  private claimPrefix(): void {
    if (this.claimed) return;
    for (let k = 0; k < 10_000; k++) {
      const owner = readOwner(this._names.prefix);
      const mine = owner?.pid === process.pid && !claimedHere.has(this._names.prefix);
      if (!ownerAlive(owner) || mine) {
        writeOwner(this._names.prefix);
        claimedHere.add(this._names.prefix);
        this.claimed = true;
        return;
      }
      if (this.prefixGiven) throw new LabError('LAB_PREFIX_IN_USE', `lab prefix ${this._names.prefix} belongs to live process ${owner!.pid}`);
      this._names = labNames(`vw${(Number(this._names.prefix.slice(2)) + 1) % 10_000}`);
    }
    throw new LabError('LAB_PREFIX_IN_USE', 'no free lab prefix');
  }

  private release(): void {
    if (!this.claimed) return;
    removeOwner(this._names.prefix);
    claimedHere.delete(this._names.prefix);
    this.claimed = false;
  }

  private async detectBackend(): Promise<IptablesBackend> {
    const ns = this._names.check;
    await run(['ip', 'netns', 'add', ns]);
    try {
      const found = await detectIptables(ns);
      if (!found.backend) throw new LabError('LAB_COMMAND_FAILED', `no usable iptables backend: ${found.problems.join('; ')}`);
      return found.backend;
    } finally {
      await deleteNetns(ns);
    }
  }

  private async startBackend(node: NodeName): Promise<void> {
    const n = LAB.nodes[node];
    const child = this.spawnIn(this.nodeNs(node), this.nodeScript('backend', ['--node', n.name, '--pod', n.pod, '--port', String(LAB.vipPort)]));
    await readyLine(child, `backend on ${node}`, '"ready":true');
  }

  /**
   * The node evidence agent (`vipwatch node-agent`, built code) inside every node namespace, listening on the node's
   * InternalIP: it reads that namespace's own sysctls and counters, as a DaemonSet with hostNetwork reads the node's.
   */
  async startNodeAgents(port: number, bin: string): Promise<void> {
    await Promise.all(NODES.map(async (node) => {
      const child = this.spawnIn(this.nodeNs(node), [process.execPath, bin, 'node-agent', '--listen', `${LAB.nodes[node].lanIp}:${port}`], { env: { ...process.env, NODE_NAME: node } });
      await readyLine(child, `node agent on ${node}`, 'node agent started');
    }));
    this.log(`node agents listening on port ${port} of every node`);
  }


  /** Adds (`present`) or removes an iptables rule, checking with -C first so repeated calls change nothing. */
  private async ensureRule(ns: string, spec: (op: '-I' | '-D' | '-C') => string[], present: boolean): Promise<void> {
    const b = this._iptables;
    if (!b || !this.up) throw new LabError('LAB_NOT_READY', 'the lab is not set up');
    const exists = (await run(iptablesArgv(ns, b, spec('-C')), { allowFail: true })).code === 0;
    if (present && !exists) await run(iptablesArgv(ns, b, spec('-I')));
    if (!present && exists) await run(iptablesArgv(ns, b, spec('-D')));
  }
}

/** dist/test/lab next to this file when running compiled, else the compiled copy of this checkout (vitest runs the .ts). */
function defaultScriptsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  if (basename(dirname(dirname(here))) === 'dist') return here;
  return join(here, '..', '..', 'dist', 'test', 'lab');
}

function parseNetnsList(text: string): string[] {
  // Lines look like `name (id: 3)` or just `name`.
  return text.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter(Boolean);
}

export async function listNetns(): Promise<string[]> {
  return parseNetnsList((await run(['ip', 'netns', 'list'])).stdout);
}

/** Kills what still runs in the namespace, then deletes it (a namespace with live processes would outlive its name). */
export async function deleteNetns(ns: string): Promise<void> {
  const pids = (await run(['ip', 'netns', 'pids', ns], { allowFail: true })).stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await run(['ip', 'netns', 'del', ns], { allowFail: true });
}

function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => c.kill('SIGKILL'), 2_000);
    c.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    c.kill('SIGTERM');
  });
}

/** Resolves when the child prints `marker` on stdout; fails with its stderr when it exits first or takes 15 s. */
function readyLine(child: ChildProcess, what: string, marker: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail('no ready line within 15 s'), 15_000);
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new LabError('LAB_BACKEND_NOT_READY', `${what}: ${why}${err ? `: ${err.trim()}` : ''}`));
    };
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes(marker)) {
        clearTimeout(timer);
        resolve();
      }
    });
    // 'close', not 'exit': by then stderr is fully read, so the reason makes it into the error.
    child.once('close', (code) => fail(`exited with ${code}`));
    child.once('error', (e) => fail(e.message));
  });
}
