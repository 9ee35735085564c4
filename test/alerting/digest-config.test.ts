import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { parseConfig } from '../../src/config/load.js';

const DIR = 'test/fixtures/config/invalid';
const tmp = mkdtempSync(join(tmpdir(), 'vipwatch-digest-config-'));
const file = join(tmp, 'vipwatch.yaml');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Each broken digest fixture with the exact problems `check-config` prints (FILE:LINE:COL: path: message). */
const CASES: Record<string, string[]> = {
  'digest-bad-schedule': ['6:15: alerting.digest.schedule: invalid cron expression "0 25 * * *"'],
  'digest-too-often': ['6:15: alerting.digest.schedule: fires every 300s: a digest sums up 24 h, schedule it at most once an hour (like "0 9 * * *")'],
  'digest-bad-timezone': [
    '7:15: alerting.digest.timezone: unknown time zone "Europe/Berlinn": use an IANA name like "Europe/Berlin", "America/New_York" or "UTC"',
    '8:5: alerting.digest.skipWhenQiet: unknown key; did you mean "skipWhenQuiet"?',
  ],
  'digest-bad-sinks': [
    '10:18: alerting.digest.sinks[1]: "am" is an Alertmanager sink: a digest is not an alert, send it to email or webhook sinks',
    '10:22: alerting.digest.sinks[2]: no email or webhook sink is named "pager" (known: ops)',
  ],
  'digest-no-sink': ['5:5: alerting.digest: needs an email or webhook sink to go to: configure alerting.email or alerting.webhooks'],
};

function capture(): CliIo & { stderr: string[] } {
  const stderr: string[] = [];
  return { stderr, out: () => {}, err: (l) => stderr.push(l), env: {} };
}

describe('alerting.digest config', () => {
  for (const [name, expected] of Object.entries(CASES)) {
    it(`${name}: check-config names file, line and key, and exits 1`, async () => {
      const f = `${DIR}/${name}.yaml`;
      const io = capture();
      expect(await main(['check-config', '--config', f], io)).toBe(1);
      expect(io.stderr.slice(0, -1)).toEqual(expected.map((e) => `${f}:${e}`));
      expect(io.stderr.at(-1)).toBe(`${f}: ${expected.length} problem${expected.length === 1 ? '' : 's'}`);
    });
  }

  it('defaults: UTC, skipped when quiet, every email and webhook sink in config order, never Alertmanager', () => {
    const c = parseConfig(`alerting:
  webhooks: [{ name: ops, url: "http://127.0.0.1:9/hook" }]
  email: [{ name: oncall, smtp: { host: 127.0.0.1, port: 25 }, from: a@example.com, to: [b@example.com] }]
  alertmanager: [{ url: "http://127.0.0.1:9093" }]
  digest: { schedule: "0 9 * * *" }
`, file).alerting;
    expect(c.digest).toEqual({ schedule: '0 9 * * *', timezone: 'UTC', skipWhenQuiet: true, sinks: ['ops', 'oncall'] });
  });

  it('keeps the chosen sinks, the time zone canonical, and is absent when not configured', () => {
    const c = parseConfig(`alerting:
  webhooks: [{ name: ops, url: "http://127.0.0.1:9/hook" }, { name: chat, url: "http://127.0.0.1:9/chat" }]
  digest: { schedule: "0 0 9 * * 1-5", timezone: europe/berlin, skipWhenQuiet: false, sinks: [chat] }
`, file).alerting;
    expect(c.digest).toEqual({ schedule: '0 0 9 * * 1-5', timezone: 'Europe/Berlin', skipWhenQuiet: false, sinks: ['chat'] });
    expect(parseConfig('alerting: {}\n', file).alerting.digest).toBeUndefined();
    expect('digest' in parseConfig('', file).alerting).toBe(false);
  });

  it('the commented example in config/example.yaml decodes once uncommented', () => {
    const lines = readFileSync('config/example.yaml', 'utf8').split('\n');
    const block = lines.slice(lines.indexOf('# alerting:')).filter((l) => l.startsWith('#')).map((l) => l.slice(2)).join('\n');
    writeFileSync(join(tmp, 'hmac'), 'k\n');
    const c = parseConfig(block.replace('/secrets/webhook-hmac', 'hmac'), file, { env: {} }).alerting;
    expect(c.digest).toEqual({ schedule: '0 9 * * *', timezone: 'Europe/Berlin', skipWhenQuiet: true, sinks: ['ops'] });
  });
});
