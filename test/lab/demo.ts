import { pathToFileURL } from 'node:url';
import type { Incident } from '../../src/incidents/types.js';
import { LAB } from './addresses.js';
import { Lab } from './lab.js';
import { Scenario } from './scenario.js';
import { formatIncident, formatLog, StatusLine } from './status-format.js';
import { LAB_TARGET } from './vipwatch-config.js';

/**
 * `sudo npm run demo`: the whole story in under two minutes. Builds the lab cluster in network namespaces, runs the
 * real `vipwatch run` against its VIP, breaks node-2 with strict rp_filter, shows the incident vipwatch opens (and the
 * kernel's own drop counter), applies the fix (loose mode 2) and shows the resolve. Everything is removed on exit,
 * Ctrl-C included.
 */
const HEALTHY_MS = 15_000;
const OPEN_WITHIN_MS = 90_000;
const RESOLVE_WITHIN_MS = 90_000;
const STATUS_EVERY_MS = 5_000;
const BROKEN = 'node-2' as const;

const t0 = Date.now();
const clock = () => {
  const s = Math.floor((Date.now() - t0) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};
const say = (line: string) => process.stdout.write(`[${clock()}] ${line}\n`);
const block = (lines: string[]) => process.stdout.write(`${lines.map((l) => `          ${l}`).join('\n')}\n`);
const step = (title: string) => process.stdout.write(`\n[${clock()}] == ${title}\n`);

async function main(): Promise<number> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    process.stderr.write('vipwatch demo: needs root to build network namespaces. Run it as root: sudo npm run demo\n');
    return 1;
  }
  const pre = await Lab.preflight();
  if (!pre.ok) {
    process.stderr.write(`vipwatch demo: cannot build the lab here: ${pre.reason}. Needs iproute2 and iptables (Debian: apt-get install iproute2 iptables).\n`);
    return 1;
  }

  const scenario = Scenario.create({ lab: { iptables: pre.iptables }, agents: true, log: (l) => say(`lab: ${l}`) });
  // Whatever ends the process, no namespace, process or temp file stays behind.
  process.once('exit', () => scenario.stopSync());
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stdout.write(`\n[${clock()}] ${sig}: tearing the lab down\n`);
      process.exit(130);
    });
  }

  step('1. Building a MetalLB-L2-like cluster in network namespaces (real kernel)');
  say(`client 198.18.0.10 -> VIP ${LAB.vip}:${LAB.vipPort}, announced by ${LAB.announcer}; node-2 and node-3 answer by direct server return`);
  await scenario.begin();
  say('vipwatch is running in the client namespace, probing the VIP every 500 ms with a fresh connection each time');
  scenario.vipwatch.onLog((l) => say(`vipwatch: ${formatLog(l)}`));

  const status = new StatusLine(LAB_TARGET);
  const ticker = setInterval(() => {
    scenario.metrics().then((m) => say(`status: ${status.next(m)}`), () => {});
  }, STATUS_EVERY_MS);
  try {
    step(`2. Healthy for ${HEALTHY_MS / 1000} s: every node serves`);
    await new Promise((r) => setTimeout(r, HEALTHY_MS));

    step(`3. Breaking ${BROKEN}: strict reverse-path filtering (sysctl net.ipv4.conf.all.rp_filter=1)`);
    say(`${BROKEN} now drops the SYNs the announcer forwards to it: its reply route to the client is not the interface they came in on`);
    const dropsBefore = await scenario.lab.rpFilterDrops(BROKEN);
    await scenario.lab.setRpFilter(BROKEN, 1);
    const opened = await waitForIncident(scenario, (i) => i.status === 'open' && i.kind === 'asymmetric_routing', OPEN_WITHIN_MS);
    if (!opened) {
      say(`no asymmetric_routing incident within ${OPEN_WITHIN_MS / 1000} s: vipwatch did not report the broken node (see its log above)`);
      return 1;
    }
    step(`4. vipwatch opened an incident (${opened.source})`);
    block(formatIncident(opened.incident));
    const drops = (await scenario.lab.rpFilterDrops(BROKEN)) - dropsBefore;
    say(`kernel check on ${BROKEN}: TcpExt IPReversePathFilter rose by ${drops} since the break (nstat -az TcpExtIPReversePathFilter)`);
    await showNotifications(scenario, opened.incident.id, 'open');

    step(`5. Applying the fix on ${BROKEN}: loose mode (sysctl net.ipv4.conf.all.rp_filter=2)`);
    await scenario.lab.setRpFilter(BROKEN, 2);
    const resolved = await waitForIncident(scenario, (i) => i.id === opened.incident.id && i.status === 'resolved', RESOLVE_WITHIN_MS);
    if (!resolved) {
      say(`the incident did not resolve within ${RESOLVE_WITHIN_MS / 1000} s`);
      return 1;
    }
    step('6. Resolved');
    block(formatIncident(resolved.incident));
    await showNotifications(scenario, opened.incident.id, 'resolved');
    say(`the whole story took ${clock()}; tearing the lab down`);
    return 0;
  } finally {
    clearInterval(ticker);
    await scenario.stop();
  }
}

/** Polls /api/v1/incidents (what a user reads); falls back to the webhook bodies when the API does not list incidents. */
async function waitForIncident(s: Scenario, pred: (i: Incident) => boolean, withinMs: number): Promise<{ incident: Incident; source: string } | undefined> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (s.vipwatch.exited) {
      say(`vipwatch exited (code ${s.vipwatch.exited.code}):\n${s.vipwatch.tail()}`);
      return undefined;
    }
    const fromApi = await s.incidents().then((l) => l.find(pred), () => undefined);
    if (fromApi) return { incident: fromApi, source: 'from /api/v1/incidents' };
    const hook = s.webhooks().reverse().find((d) => pred(d.incident));
    if (hook) return { incident: hook.incident, source: 'from its webhook' };
    await new Promise((r) => setTimeout(r, 1000));
  }
  return undefined;
}

/** What reached the receivers: the webhook (event header, signature check) and the mail subject. */
async function showNotifications(s: Scenario, id: string, event: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let hook, mail;
  while (Date.now() < deadline && !(hook && mail)) {
    hook = s.webhooks().find((d) => d.incident.id === id && d.event === event);
    mail = s.mails().find((m) => m.subject.includes(event === 'resolved' ? 'RESOLVED' : 'OPEN') && m.text.includes(id));
    if (!(hook && mail)) await new Promise((r) => setTimeout(r, 500));
  }
  say(hook ? `webhook received: X-Vipwatch-Event ${hook.event}, signature ${hook.signatureOk ? 'valid' : 'INVALID'}` : 'no webhook received (yet)');
  say(mail ? `mail received: "${mail.subject}"` : 'no mail received (yet)');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`vipwatch demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
