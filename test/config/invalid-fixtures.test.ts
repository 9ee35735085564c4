import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { loadConfigFile } from '../../src/config/load.js';
import { ConfigError } from '../../src/lib/errors.js';

const DIR = 'test/fixtures/config/invalid';

/** Each broken fixture with the exact problems `check-config` must print (FILE:LINE:COL: path: message). */
const CASES: Record<string, string[]> = {
  'yaml-syntax': ['4:1: yaml: Sequence item without - indicator'],
  'duplicate-key': ['5:5: yaml: Map keys must be unique'],
  'unknown-top-level': ['1:1: targts: unknown key; did you mean "targets"?'],
  'unknown-target-key': ['3:5: targets[0].adress: unknown key; did you mean "address"?'],
  'missing-address': ['2:5: targets[0].address: is required'],
  'port-range': ['4:11: targets[0].port: must be <= 65535, got 70000'],
  'port-string': ['4:11: targets[0].port: must be an integer, got "http"'],
  'bad-protocol': ['5:15: targets[0].protocol: must be one of tcp, http, https, got "udp"'],
  'bad-duration': ['5:15: targets[0].interval: invalid duration "5 seconds": use a number with ms, s, m, h or d, like "500ms" or "2s"'],
  'interval-and-schedule': ['6:15: targets[0].schedule: set either interval or schedule, not both'],
  'cron-without-seconds': ['5:15: targets[0].schedule: must be a cron expression with seconds (6 fields, like "*/5 * * * * *"), got 5 fields'],
  'timeout-over-interval': ['6:14: targets[0].timeout: timeout (3000ms) must not exceed interval (1000ms): attempts never overlap'],
  'ring-too-large': ['4:59: targets[0].interval: diagnosis.window (86400s) at one attempt every 0.5s needs 172,850 attempts held (~11 MiB); the limit is 100,000 per target (~6 MiB): lengthen the interval or shorten diagnosis.window'],
  'duplicate-names': ['5:11: targets[1].name: duplicate target name "web" (first at targets[0])'],
  'http-on-tcp': ['6:5: targets[0].http: only allowed with protocol http or https'],
  'expect-status-range': ['7:27: targets[0].http.expectStatus[1]: must be <= 599, got 600'],
  'bad-body-regex': ['7:18: targets[0].http.bodyRegex: invalid regular expression: Invalid regular expression: /ok(/: Unterminated group'],
  'prober-owned-header': ['8:9: targets[0].http.headers.Connection: cannot be set: every attempt sends one request without a body on a fresh connection and closes it'],
  'bad-header-name': ['8:9: targets[0].http.headers["Bad Header"]: invalid HTTP header name'],
  'missing-env': ['8:24: targets[0].http.headers.Authorization: environment variable VIPWATCH_TEST_UNSET_TOKEN is not set'],
  'tls-on-http': ['6:5: targets[0].tls: only allowed with protocol https'],
  'bad-ipv4': ['3:14: targets[0].address: invalid IPv4 address "127.0.0.300"'],
  'bad-service': ['5:14: targets[0].service: must be "namespace/name"'],
  'bad-listen': ['2:11: server.listen: must be "host:port" like "0.0.0.0:9464", got "9464"'],
  'targets-not-list': ['2:3: targets: must be a list, got a mapping'],
  'bad-default-timeout': ['2:12: defaults.timeout: invalid duration "-1s": use a number with ms, s, m, h or d, like "500ms" or "2s"'],
  'missing-ca-file': [`7:15: targets[0].tls.caFile: cannot read ${resolve(DIR, 'no-such-ca.pem')}: ENOENT`],
  'header-and-json-field': ['8:25: targets[0].http.backendJsonField: set either backendHeader or backendJsonField, not both'],
  'bad-log-level': ['2:10: log.level: must be one of debug, info, warn, error, got "verbose"'],
  'agents-without-kubernetes': ['4:20: agents.nodeUrlTemplate: {nodeIP} needs the Kubernetes API (the kubernetes section) to find each Node\'s InternalIP'],
  'agents-bad-template': ['3:20: agents.nodeUrlTemplate: an http:// or https:// URL containing {nodeIP} or {nodeName}, e.g. http://{nodeIP}:9465'],
  'bad-target-name': ['2:11: targets[0].name: must be 1-128 characters of letters, digits, "_", ".", ":" or "-", starting with a letter or digit'],
  'bad-header-value': [
    '8:21: targets[0].http.headers.X-Injected: contains U+000D (CR) at character 2: a header value may hold only tab, space, visible ASCII and U+0080-U+00FF',
    '11:18: targets[0].http.headers.X-Emoji: contains U+1F44D at character 4: a header value may hold only tab, space, visible ASCII and U+0080-U+00FF',
  ],
  'bad-path': [
    '7:13: targets[0].http.path: contains U+0020 (space) at character 8: a path may hold only visible ASCII and U+0080-U+00FF; percent-encode the rest (a space is %20)',
    '13:13: targets[1].http.path: contains U+000A (LF) at character 4: a path may hold only visible ASCII and U+0080-U+00FF; percent-encode the rest (a space is %20)',
  ],
  'interval-too-long': ['5:15: targets[0].interval: must be at most 24h (the longest interval vipwatch schedules), got 49d'],
  'default-interval-too-long': ['2:13: defaults.interval: must be at most 24h (the longest interval vipwatch schedules), got 25h'],
  'alias-bomb': ['7:8: yaml: aliases expand to more than 1000000 values (an alias bomb?): write the values out'],
  'alias-undefined': ['4:11: yaml: unknown alias *port: its anchor &port must come before it'],
  'alias-cycle': ['5:5: yaml: alias *t is inside the node it names (a cycle)'],
  'many-problems': [
    '2:11: server.listen: port must be 0-65535, got 99999',
    '6:11: targets[0].port: must be >= 1, got 0',
    '9:15: targets[0].http.method: must be one of GET, HEAD, POST, PUT, OPTIONS, got "FETCH"',
    '10:5: targets[1].address: is required',
    '12:14: targets[1].timeout: invalid duration "fast": use a number with ms, s, m, h or d, like "500ms" or "2s"',
  ],
};

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l), env: {} };
}

describe('invalid config fixtures', () => {
  for (const [name, expected] of Object.entries(CASES)) {
    it(`${name}: check-config prints the exact problems and exits 1`, async () => {
      const file = `${DIR}/${name}.yaml`;
      const io = capture();
      expect(await main(['check-config', '--config', file], io)).toBe(1);
      expect(io.stderr.slice(0, -1)).toEqual(expected.map((e) => `${file}:${e}`));
      expect(io.stderr.at(-1)).toBe(`${file}: ${expected.length} problem${expected.length === 1 ? '' : 's'}`);
    });
  }
  it('covers at least 20 fixtures', () => {
    expect(Object.keys(CASES).length).toBeGreaterThanOrEqual(20);
  });
});

describe('valid config', () => {
  it('config/example.yaml passes check-config', async () => {
    const io = capture();
    expect(await main(['check-config', '--config', 'config/example.yaml'], io)).toBe(0);
    expect(io.stdout).toEqual(['config/example.yaml: ok (2 targets)']);
  });

  it('expands ${ENV} into secrets that never print', () => {
    const cfg = loadConfigFile(`${DIR}/missing-env.yaml`, { env: { VIPWATCH_TEST_UNSET_TOKEN: 's3cr3t' } });
    const header = cfg.targets[0]!.http!.headers.Authorization!;
    expect(typeof header === 'string' ? header : header.reveal()).toBe('Bearer s3cr3t');
    expect(JSON.stringify(cfg)).not.toContain('s3cr3t');
    expect(String(header)).toBe('[redacted]');
  });

  it('applies defaults and inheritance', () => {
    const cfg = loadConfigFile('config/example.yaml', { env: {} });
    expect(cfg.defaults).toEqual({ intervalMs: 2000, timeoutMs: 1000 });
    const [http, tcp] = cfg.targets;
    expect(http).toMatchObject({ name: 'self-http', intervalMs: 1000, timeoutMs: 800, protocol: 'http' });
    expect(http!.http).toMatchObject({ path: '/-/healthy', method: 'GET', expectStatus: [200], maxBodyBytes: 65536 });
    expect(tcp).toMatchObject({ name: 'self-tcp', schedule: '*/5 * * * * *', intervalMs: undefined, timeoutMs: 1000 });
  });

  it('a header value from ${ENV} with a newline is refused at its key, without printing the secret', async () => {
    const file = `${DIR}/bad-header-value-env.yaml`;
    const io = { ...capture(), env: { VIPWATCH_TEST_NEWLINE_TOKEN: 's3cr3t\nX-Evil: 1' } };
    const stderr: string[] = [];
    io.err = (l) => stderr.push(l);
    expect(await main(['check-config', '--config', file], io)).toBe(1);
    expect(stderr).toEqual([
      `${file}:8:24: targets[0].http.headers.Authorization: contains U+000A (LF) at character 14: a header value may hold only tab, space, visible ASCII and U+0080-U+00FF`,
      `${file}: 1 problem`,
    ]);
    expect(stderr.join('\n')).not.toContain('s3cr3t');
  });

  it('reports an unreadable file as a ConfigError', () => {
    expect(() => loadConfigFile('test/fixtures/config/nope.yaml')).toThrow(ConfigError);
  });
});

describe('cli usage', () => {
  it('exits 2 on a missing --config and on unknown options', async () => {
    let io = capture();
    expect(await main(['check-config'], io)).toBe(2);
    expect(io.stderr[0]).toBe('vipwatch: --config FILE is required');
    io = capture();
    expect(await main(['run', '--confg', 'x'], io)).toBe(2);
    expect(io.stderr[0]).toBe('vipwatch: unknown option --confg');
    io = capture();
    expect(await main(['frobnicate'], io)).toBe(2);
  });
  it('prints help per command with exit 0', async () => {
    const io = capture();
    expect(await main(['run', '--help'], io)).toBe(0);
    expect(io.stdout.join('\n')).toContain('Usage: vipwatch run --config FILE');
  });
});
