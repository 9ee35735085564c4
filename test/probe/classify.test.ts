/**
 * The mapping itself, for codes no loopback test can provoke on demand (EPIPE races, kernel ETIMEDOUT after minutes,
 * resolver failures other than NXDOMAIN, local policy errors). Every reason also has a real-socket test beside this.
 */
import { describe, expect, it } from 'vitest';
import { classifyDeadline, classifyError, type Phase } from '../../src/probe/classify.js';
import { DeadlineError } from '../../src/lib/clock.js';

function err(code: string | undefined, message = 'boom', name?: string): Error {
  const e = new Error(message) as Error & { code?: string };
  if (code !== undefined) e.code = code;
  if (name) e.name = name;
  return e;
}

describe('classifyError', () => {
  const table: [string | undefined, Phase, string, string?][] = [
    ['ECONNREFUSED', 'connect', 'refused'],
    ['EHOSTUNREACH', 'connect', 'unreachable'],
    ['ENETUNREACH', 'connect', 'unreachable'],
    ['EPERM', 'connect', 'unreachable'], // a local firewall rejected the SYN
    // vipwatch's own resources, in any phase: never the VIP's failure.
    ['EADDRNOTAVAIL', 'connect', 'probe_error'], // out of ephemeral ports
    ['EMFILE', 'connect', 'probe_error'],
    ['ENFILE', 'connect', 'probe_error'],
    ['ENOBUFS', 'request', 'probe_error'],
    ['ENOMEM', 'tls', 'probe_error'],
    ['EMFILE', 'resolve', 'probe_error'],
    ['ETIMEDOUT', 'connect', 'connect_timeout'], // the kernel gave up on the SYN
    ['ETIMEDOUT', 'request', 'response_timeout'],
    ['ECONNRESET', 'request', 'reset'],
    ['EPIPE', 'request', 'reset'],
    ['ECONNRESET', 'tls', 'reset'],
    ['ENOTFOUND', 'resolve', 'dns'],
    ['EAI_AGAIN', 'resolve', 'dns'],
    ['ESERVFAIL', 'resolve', 'dns'],
    [undefined, 'resolve', 'dns'],
    ['CERT_HAS_EXPIRED', 'tls', 'tls'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'tls', 'tls'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'tls', 'tls'],
    ['UND_ERR_SOCKET', 'request', 'reset'],
    ['UND_ERR_SOCKET', 'response', 'protocol'],
    ['UND_ERR_HEADERS_TIMEOUT', 'request', 'response_timeout'],
    ['HPE_INVALID_CONSTANT', 'response', 'protocol'],
    ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'response', 'protocol'],
    ['ESOMETHINGNEW', 'connect', 'unreachable'],
    ['ESOMETHINGNEW', 'tls', 'tls'],
    ['ESOMETHINGNEW', 'response', 'protocol'],
  ];
  it.each(table)('%s in %s -> %s', (code, phase, reason) => {
    const c = classifyError(err(code), phase);
    expect(c.reason).toBe(reason);
    expect(c.errorCode).toBe(code);
    expect(c.detail).toContain('boom');
  });

  it('keeps undici parser errors, which carry no code, by their name', () => {
    const c = classifyError(err(undefined, 'Response does not match the HTTP/1.1 protocol', 'HTTPParserError'), 'response');
    expect(c).toEqual({ reason: 'protocol', errorCode: 'HTTPParserError', detail: 'HTTPParserError: Response does not match the HTTP/1.1 protocol' });
  });
});

describe('classifyDeadline', () => {
  it.each([
    ['resolve', 'dns', /did not resolve within 250ms/],
    ['connect', 'connect_timeout', /no SYN-ACK within 250ms/],
    ['tls', 'response_timeout', /TLS handshake not complete within 250ms/],
    ['request', 'response_timeout', /no response within 250ms/],
    ['response', 'response_timeout', /response started but not complete within 250ms/],
  ] as const)('%s -> %s', (phase, reason, detail) => {
    const c = classifyDeadline(new DeadlineError(250), phase, 250.4);
    expect(c.reason).toBe(reason);
    expect(c.errorCode).toBe('VIPWATCH_DEADLINE');
    expect(c.detail).toMatch(detail);
  });

  it('names an AbortSignal.timeout reason by its DOMException name', () => {
    const reason = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(classifyDeadline(reason, 'connect', 10).errorCode).toBe('TimeoutError');
  });
});
