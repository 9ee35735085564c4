import { describe, expect, it } from 'vitest';
import { NETSTAT_COUNTERS, parseNetstat, selectCounters } from '../../src/agent/netstat.js';
import { parseSysctlInt, ProcFileError } from '../../src/agent/proc-file.js';
import { ERR } from '../../src/lib/error-codes.js';

function malformedMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProcFileError);
    expect((err as ProcFileError).code).toBe(ERR.AGENT_PROC_MALFORMED);
    return (err as Error).message;
  }
  throw new Error('did not throw');
}

describe('/proc/net/netstat parsing', () => {
  it('reads every group of header/value line pairs, blank lines and trailing spaces aside', () => {
    expect(parseNetstat('TcpExt: A B\nTcpExt: 1 2 \n\nIpExt: C\nIpExt: 4671025465\n')).toEqual({ TcpExt: { A: 1, B: 2 }, IpExt: { C: 4671025465 } });
  });

  it.each([
    ['', 'line 1: empty'],
    ['TcpExt: A B\n', 'line 1: TcpExt: has a header line and no value line'],
    ['TcpExt: A B\nIpExt: 1 2\n', 'line 2: expected the values of TcpExt:, got "IpExt:"'],
    ['TcpExt: A B\nTcpExt: 1 2 3\n', 'line 2: TcpExt: names 2 counters and has 3 values'],
    ['TcpExt: A B\nTcpExt: 1 -2\n', 'line 2: TcpExt: B is "-2", not a count'],
    ['<html>\n', 'line 1: expected a group header like "TcpExt:", got "<html>"'],
  ])('refuses %j with a stable code and the line: %s', (text, why) => {
    expect(malformedMessage(() => parseNetstat(text, '/p/proc/net/netstat'))).toBe(`/p/proc/net/netstat: ${why}`);
  });

  it('keeps only the known drop counters, and only those present', () => {
    const groups = { TcpExt: { IPReversePathFilter: 4, TCPHPHits: 9, ListenDrops: 0 }, MPTcpExt: { X: 1 } };
    expect(selectCounters(groups)).toEqual({ TcpExt: { IPReversePathFilter: 4, ListenDrops: 0 }, IpExt: {} });
    expect(NETSTAT_COUNTERS.TcpExt).toContain('IPReversePathFilter');
    expect(NETSTAT_COUNTERS.IpExt).toEqual(expect.arrayContaining(['InNoRoutes', 'InTruncatedPkts']));
  });

  it('sysctl values: one non-negative integer, whitespace around it allowed', () => {
    expect(parseSysctlInt('2\n', 'f')).toBe(2);
    expect(parseSysctlInt(' 0 ', 'f')).toBe(0);
    expect(malformedMessage(() => parseSysctlInt('', 'f'))).toBe('f: expected one integer, got ""');
    expect(malformedMessage(() => parseSysctlInt('1 2\n', 'f'))).toBe('f: expected one integer, got "1 2\\n"');
  });
});
