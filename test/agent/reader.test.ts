import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { macOf, NodeReader } from '../../src/agent/reader.js';
import { ERR } from '../../src/lib/error-codes.js';
import { parseNetstat as labParseNetstat } from '../lab/netstat.js';
import { FIXED_NOW, FIXTURE_MACS, fixtureInterfaces, fixtureRoot } from './fixtures.js';

const reader = (root: string) => new NodeReader({ node: 'node-2', root, networkInterfaces: fixtureInterfaces, now: () => FIXED_NOW, agentVersion: '9.9.9' });

describe('NodeReader on fixture /proc trees', () => {
  it('strict on eth1, loose elsewhere: every interface conf/ lists, each scope, effective = max(all, interface), and the addresses', async () => {
    const r = await reader(fixtureRoot('strict-eth1')).read();
    expect(r.node).toBe('node-2');
    expect(r.readAt).toBe('2026-01-02T03:04:05.000Z');
    expect(r.agentVersion).toBe('9.9.9');
    expect(r.errors).toEqual([]);
    expect(Object.keys(r.interfaces).sort()).toEqual(['eth0', 'eth1', 'flannel.1', 'lo']);
    expect(r.interfaces.eth1).toEqual({
      rpFilter: { all: 0, default: 2, interface: 1, effective: 1 },
      logMartians: { all: 0, default: 0, interface: 1, effective: 1 },
      addresses: ['198.19.0.12/24'],
      mac: FIXTURE_MACS.eth1,
    });
    expect(r.interfaces.eth0!.mac).toBe(FIXTURE_MACS.eth0);
    expect(r.interfaces.eth0!.rpFilter).toEqual({ all: 0, default: 2, interface: 2, effective: 2 });
    expect(r.interfaces.eth0!.addresses).toEqual(['198.18.0.12/24', 'fe80::1/64']);
    expect(r.interfaces.lo!.rpFilter.effective).toBe(0);
    // An interface with no address (a VXLAN device before its address is set) is still reported.
    expect(r.interfaces['flannel.1']).toMatchObject({ rpFilter: { effective: 2 }, addresses: [] });
    // No MAC where there is none: lo's is all zeros, flannel.1 has no address so os.networkInterfaces lists it not.
    expect(r.interfaces.lo).not.toHaveProperty('mac');
    expect(r.interfaces['flannel.1']).not.toHaveProperty('mac');
    const strict = Object.entries(r.interfaces).filter(([, e]) => e.rpFilter.effective === 1).map(([n]) => n);
    expect(strict).toEqual(['eth1']);
  });

  it('reads a real kernel\'s /proc/net/netstat (this machine\'s, copied): the counters agree with an independent parse', async () => {
    const root = fixtureRoot('strict-eth1');
    const r = await reader(root).read();
    const independent = labParseNetstat(readFileSync(join(root, 'proc/net/netstat'), 'utf8'));
    expect(r.reversePathDrops).toBe(independent.TcpExt!.IPReversePathFilter);
    expect(typeof r.reversePathDrops).toBe('number');
    expect(r.counters.TcpExt).toMatchObject({
      IPReversePathFilter: independent.TcpExt!.IPReversePathFilter,
      ListenOverflows: independent.TcpExt!.ListenOverflows,
      ListenDrops: independent.TcpExt!.ListenDrops,
      TCPBacklogDrop: independent.TcpExt!.TCPBacklogDrop,
    });
    expect(r.counters.IpExt).toEqual({
      InNoRoutes: independent.IpExt!.InNoRoutes, InTruncatedPkts: independent.IpExt!.InTruncatedPkts, InCsumErrors: independent.IpExt!.InCsumErrors,
    });
    // Only drop counters: nothing of the other 100-odd TcpExt fields, no MPTcpExt.
    expect(r.counters.TcpExt).not.toHaveProperty('TCPHPHits');
    expect(Object.keys(r.counters)).toEqual(['TcpExt', 'IpExt']);
  });

  it('conf/all = 1 makes every interface at least strict: effective is the max, whatever the interface says', async () => {
    const r = await reader(fixtureRoot('all-strict')).read();
    expect(r.interfaces.eth0!.rpFilter).toEqual({ all: 1, default: 0, interface: 0, effective: 1 });
    expect(r.interfaces.eth1!.rpFilter).toEqual({ all: 1, default: 0, interface: 2, effective: 2 });
    expect(r.interfaces.eth0!.logMartians).toEqual({ all: 1, default: 0, interface: 0, effective: 1 });
    expect(r.reversePathDrops).toBe(57);
    expect(r.counters).toEqual({ TcpExt: { IPReversePathFilter: 57, ListenOverflows: 3, ListenDrops: 5, TCPBacklogDrop: 1, TCPOFODrop: 0 }, IpExt: { InNoRoutes: 2, InTruncatedPkts: 0 } });
  });

  it('a kernel without a counter or a group: absent, never 0; reversePathDrops null', async () => {
    const r = await reader(fixtureRoot('old-kernel')).read();
    expect(r.errors).toEqual([]);
    expect(r.reversePathDrops).toBeNull();
    expect(r.counters).toEqual({ TcpExt: { ListenOverflows: 1, ListenDrops: 1 }, IpExt: {} });
    expect(r.interfaces.eth0!.rpFilter.effective).toBe(0);
  });

  it('malformed files: a stable code naming the file and the line, and the rest is still reported', async () => {
    const root = fixtureRoot('malformed');
    const r = await reader(root).read();
    expect(Object.keys(r.interfaces)).toEqual(['eth0']);
    expect(r.interfaces.eth0!.rpFilter.effective).toBe(2);
    expect(r.reversePathDrops).toBeNull();
    expect(r.counters).toEqual({ TcpExt: {}, IpExt: {} });
    const byCode = r.errors.map((e) => [e.code, e.source.slice(root.length)]);
    expect(byCode.sort()).toEqual([
      [ERR.AGENT_PROC_MALFORMED, '/proc/net/netstat'],
      [ERR.AGENT_PROC_MALFORMED, '/proc/sys/net/ipv4/conf/eth1/rp_filter'],
    ]);
    const messages = r.errors.map((e) => e.message).join('\n');
    expect(messages).toContain('expected one integer, got "x\\n"');
    expect(messages).toContain('line 2: TcpExt: names 3 counters and has 2 values');
  });

  it('a root with no proc/ under it (a wrong --proc-root): AGENT_PROC_MISSING for both sources, and no exception', async () => {
    const root = join(fixtureRoot('strict-eth1'), 'no-such-dir');
    const r = await reader(root).read();
    expect(r.interfaces).toEqual({});
    expect(r.reversePathDrops).toBeNull();
    expect(r.errors.map((e) => [e.code, e.source.slice(root.length)]).sort()).toEqual([
      [ERR.AGENT_PROC_MISSING, '/proc/net/netstat'],
      [ERR.AGENT_PROC_MISSING, '/proc/sys/net/ipv4/conf'],
    ]);
  });

  it('os.networkInterfaces failing leaves the addresses empty and the sysctls reported', async () => {
    const r = await new NodeReader({ node: 'n', root: fixtureRoot('strict-eth1'), networkInterfaces: () => { throw new Error('uv_interface_addresses'); } }).read();
    expect(r.interfaces.eth1).toMatchObject({ rpFilter: { effective: 1 }, addresses: [] });
    expect(r.interfaces.eth1).not.toHaveProperty('mac');
  });

  it('macOf: the first well-formed, non-zero MAC of the interface\'s entries, lower-case; none from zeros or junk', () => {
    const at = (mac: string) => ({ address: '10.0.0.1', netmask: '255.0.0.0', family: 'IPv4' as const, mac, internal: false, cidr: '10.0.0.1/8' });
    expect(macOf([at('00:00:00:00:00:00'), at('0A:58:0A:F4:00:01')])).toBe('0a:58:0a:f4:00:01');
    expect(macOf([at('00:00:00:00:00:00')])).toBeUndefined();
    expect(macOf([at(''), at('02:00:00:00:01'), at('02-00-00-00-00-01')])).toBeUndefined();
    expect(macOf([])).toBeUndefined();
  });

  it('an interface removed between the listing and the read (a pod\'s veth) is left out silently; one missing a file is an error', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vipwatch-agent-'));
    cpSync(fixtureRoot('strict-eth1'), root, { recursive: true });
    const conf = join(root, 'proc/sys/net/ipv4/conf');
    // Listed by readdir, gone by the time it is read: what a dangling entry looks like to the reader.
    symlinkSync(join(root, 'no-such-veth'), join(conf, 'veth1a2b3c'));
    mkdirSync(join(conf, 'eth2'));
    cpSync(join(conf, 'eth0/rp_filter'), join(conf, 'eth2/rp_filter'));
    const r = await reader(root).read();
    expect(Object.keys(r.interfaces).sort()).toEqual(['eth0', 'eth1', 'flannel.1', 'lo']);
    expect(r.errors).toEqual([{ source: join(conf, 'eth2/log_martians'), code: ERR.AGENT_PROC_MISSING, message: `${join(conf, 'eth2/log_martians')} does not exist` }]);
    rmSync(root, { recursive: true, force: true });
  });
});
