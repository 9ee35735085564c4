/**
 * The lab's split-brain fault (issue 15, part 2): a second speaker announces the VIP beside the legitimate one, as in
 * metallb/metallb#2747 (a memberlist partition, IPVS without strictARP). The rogue node (node-3) answers ARP for the VIP
 * it holds on lo (arp_ignore 0, arp_announce 0), drops the VIP's traffic arriving on its LAN interface (as a node whose
 * kube-proxy has no way to serve it would; what node-1 forwards to it over the cluster network keeps working), and it
 * and the announcer (node-1) send gratuitous ARP alternately, each every `periodMs`, half a period apart: the client's
 * neighbour entry for the VIP flips every `periodMs / 2`, and connects fail while it names the rogue's MAC.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { IFACE, LAB, type NodeName } from './addresses.js';
import { LabError, run } from './exec.js';
import { iptablesArgv } from './iptables.js';
import type { Lab } from './lab.js';
import { sysctlArgv } from './sysctl.js';
import { repoRoot } from './vipwatch-process.js';

export interface SplitBrainOptions {
  /** Each announcer's gratuitous ARP period; the client's entry flips every half period. Default 4000 ms. */
  readonly periodMs?: number;
  /** The node that announces the VIP too and cannot serve it. Default node-3. */
  readonly rogue?: NodeName;
}

/** One round of gratuitous ARP (a request and a reply) as its sender reported it. */
export interface GarpSend {
  readonly node: NodeName;
  readonly mac: string;
  /** Epoch ms. */
  readonly at: number;
}

/** The sysctls the fault changes on the rogue node, in this order (the kernel applies max(all, iface) for both). */
const ARP_KEYS = ['all.arp_ignore', `${IFACE.lan}.arp_ignore`, 'all.arp_announce', `${IFACE.lan}.arp_announce`] as const;

export const DEFAULT_GARP_PERIOD_MS = 4_000;
/** Time for both senders to start before the first round, so the two stay exactly half a period apart. */
const START_MARGIN_MS = 1_000;

/** The lab's Python helpers are read from the source tree (tsc does not copy them to dist). */
export function labPythonScript(name: string): string {
  return join(repoRoot(), 'test', 'lab', name);
}

/** VIP traffic arriving on the rogue's LAN interface is dropped; the flows the announcer forwards over eth1 are not. */
export function splitBrainDropRule(op: '-I' | '-D' | '-C'): string[] {
  return ['-t', 'filter', op, 'INPUT', '-i', IFACE.lan, '-d', `${LAB.vip}/32`, '-p', 'tcp', '--dport', String(LAB.vipPort), '-j', 'DROP'];
}

/** argv of garp.py announcing the VIP from `node`'s LAN interface (forever unless `count`). */
export function garpArgv(node: NodeName, o: { periodMs: number; offsetMs?: number; startMs?: number; count?: number; watchStdin?: boolean }): string[] {
  return ['python3', labPythonScript('garp.py'), '--iface', IFACE.lan, '--ip', LAB.vip, '--mac', LAB.nodes[node].lanMac,
    '--period-ms', String(o.periodMs), '--offset-ms', String(o.offsetMs ?? 0), '--start-ms', String(o.startMs ?? 0), '--count', String(o.count ?? 0),
    ...(o.watchStdin ? ['--watch-stdin'] : [])];
}

/** The node whose LAN MAC this is, if any. */
export function nodeOfMac(mac: string | null | undefined): NodeName | undefined {
  if (!mac) return undefined;
  return (Object.values(LAB.nodes).find((n) => n.lanMac === mac.toLowerCase()))?.name;
}

/** The split-brain fault, on from start() until stop(). */
export class SplitBrain {
  /** Every gratuitous ARP round sent so far, both senders, in arrival order. */
  readonly sends: GarpSend[] = [];
  readonly periodMs: number;
  readonly rogue: NodeName;
  readonly announcer: NodeName = LAB.announcer;
  private readonly senders: ChildProcess[] = [];
  private saved?: number[];
  private stopped = false;

  private constructor(private readonly lab: Lab, opts: SplitBrainOptions) {
    this.periodMs = opts.periodMs ?? DEFAULT_GARP_PERIOD_MS;
    this.rogue = opts.rogue ?? 'node-3';
    if (!Number.isInteger(this.periodMs) || this.periodMs < 200) throw new LabError('LAB_BAD_ARGUMENT', `GARP period must be an integer >= 200 ms, got ${this.periodMs}`);
    if (this.rogue === this.announcer) throw new LabError('LAB_BAD_ARGUMENT', `the rogue announcer must not be the announcer ${this.announcer}`);
  }

  /** Turns the fault on; the senders run until stop() (or the lab's teardown). Undoes what it did when a step fails. */
  static async start(lab: Lab, opts: SplitBrainOptions = {}): Promise<SplitBrain> {
    const f = new SplitBrain(lab, opts);
    try {
      await f.on();
    } catch (err) {
      await f.stop().catch(() => {});
      throw err;
    }
    return f;
  }

  private async on(): Promise<void> {
    const ns = this.lab.nodeNs(this.rogue);
    this.saved = await readArpSysctls(this.lab, ns);
    await run(arpSysctlArgv(ns, [0, 0, 0, 0]));
    await this.setDrop(true);
    const startMs = Date.now() + START_MARGIN_MS;
    await Promise.all([
      this.spawnSender(this.announcer, { periodMs: this.periodMs, offsetMs: 0, startMs }),
      this.spawnSender(this.rogue, { periodMs: this.periodMs, offsetMs: Math.round(this.periodMs / 2), startMs }),
    ]);
  }

  /**
   * Ends the alternation, restores the rogue's ARP sysctls, then has the announcer send one more gratuitous ARP (as a
   * speaker does after a failover) so the client's entry points at it again, and removes the drop. Safe to repeat.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.senders.map((c) => endChild(c)));
    if (this.saved) await run(arpSysctlArgv(this.lab.nodeNs(this.rogue), this.saved));
    if (this.senders.length) await this.lab.exec(this.lab.nodeNs(this.announcer), garpArgv(this.announcer, { periodMs: 200, count: 1 }));
    await this.setDrop(false);
  }

  /** The senders' pids (for a test that checks nothing outlives stop()). */
  get senderPids(): number[] {
    return this.senders.map((c) => c.pid).filter((p): p is number => p !== undefined);
  }

  private async setDrop(on: boolean): Promise<void> {
    const b = this.lab.iptables;
    if (!b) throw new LabError('LAB_NOT_READY', 'the lab is not set up');
    const ns = this.lab.nodeNs(this.rogue);
    const exists = (await run(iptablesArgv(ns, b, splitBrainDropRule('-C')), { allowFail: true })).code === 0;
    if (on && !exists) await run(iptablesArgv(ns, b, splitBrainDropRule('-I')));
    if (!on && exists) await run(iptablesArgv(ns, b, splitBrainDropRule('-D')));
  }

  /** Starts garp.py in the node's namespace (stdin a pipe it watches: the sender ends with this process); resolves once it is ready. */
  private spawnSender(node: NodeName, o: { periodMs: number; offsetMs: number; startMs: number }): Promise<void> {
    const child = this.lab.spawnIn(this.lab.nodeNs(node), garpArgv(node, { ...o, watchStdin: true }), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.senders.push(child);
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new LabError('LAB_BACKEND_NOT_READY', `garp.py on ${node}: not ready within 10 s: ${err.trim()}`)), 10_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let msg: { ready?: boolean; sent?: number };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          return;
        }
        if (msg.ready) {
          clearTimeout(timer);
          resolve();
        }
        if (typeof msg.sent === 'number') this.sends.push({ node, mac: LAB.nodes[node].lanMac, at: msg.sent });
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        reject(new LabError('LAB_BACKEND_NOT_READY', `garp.py on ${node} exited with ${code}: ${err.trim()}`));
      });
    });
  }
}

function arpSysctlArgv(ns: string, values: readonly number[]): string[] {
  return sysctlArgv(ns, ARP_KEYS.map((k, i) => [`net.ipv4.conf.${k}`, values[i]!] as const));
}

async function readArpSysctls(lab: Lab, ns: string): Promise<number[]> {
  const out = await lab.exec(ns, ['cat', ...ARP_KEYS.map((k) => `/proc/sys/net/ipv4/conf/${k.replace('.', '/')}`)]);
  const values = out.stdout.trim().split(/\s+/).map(Number);
  if (values.length !== ARP_KEYS.length || values.some((v) => !Number.isInteger(v))) throw new LabError('LAB_COMMAND_FAILED', `unexpected ARP sysctls in ${ns}: ${out.stdout.trim()}`);
  return values;
}

/** The rogue's current ARP sysctls (arp_ignore all/eth0, arp_announce all/eth0), for a test of the restore. */
export function rogueArpSysctls(lab: Lab, node: NodeName): Promise<number[]> {
  return readArpSysctls(lab, lab.nodeNs(node));
}

/** Ends a sender: SIGTERM, SIGKILL after 2 s. */
function endChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => c.kill('SIGKILL'), 2_000);
    c.once('close', () => {
      clearTimeout(force);
      resolve();
    });
    c.kill('SIGTERM');
  });
}

/** One connect of neigh-probe.py with the VIP's neighbour entry read right before and after it. */
export interface NeighProbeResult {
  at: number;
  ms: number;
  ok: boolean;
  error: string | null;
  macBefore: string | null;
  macAfter: string | null;
}

/** Connects from the client namespace to VIP:80 one after another, each bracketed by reads of the VIP's neighbour entry. */
export async function neighProbe(lab: Lab, o: { count: number; timeoutMs?: number; gapMs?: number }): Promise<NeighProbeResult[]> {
  const timeoutMs = o.timeoutMs ?? 500;
  const gapMs = o.gapMs ?? 100;
  const out = await lab.exec(lab.names.client, ['python3', labPythonScript('neigh-probe.py'), '--host', LAB.vip, '--port', String(LAB.vipPort),
    '--count', String(o.count), '--timeout-ms', String(timeoutMs), '--gap-ms', String(gapMs)], { timeoutMs: o.count * (timeoutMs + gapMs + 200) + 10_000 });
  return out.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as NeighProbeResult);
}

/** The MAC of the client's complete neighbour entry for the VIP, or null. */
export async function clientVipMac(lab: Lab): Promise<string | null> {
  const out = await lab.exec(lab.names.client, ['cat', '/proc/net/arp']);
  for (const line of out.stdout.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[0] === LAB.vip && f[2] !== '0x0' && f[3] && f[3] !== '00:00:00:00:00:00') return f[3].toLowerCase();
  }
  return null;
}
