/**
 * A child process for the crash test: runs the alert Notifier on a config file (argv[2]) and takes commands on
 * stdin, one JSON per line:
 *   {"event": IncidentEvent}                 queue one event; prints "queued <key> <incident> <type>" once durable
 *   {"generate": {"incidents": K, "rounds": R}}  queue open/update/reminder/resolved rounds as fast as it can
 *   {"stop": true}                           stop cleanly and exit 0
 * Prints "started" when delivery runs. Built to dist/ by npm run build.
 */
import { createInterface } from 'node:readline';
import { Registry } from 'prom-client';
import { Notifier } from '../../src/alerting/notifier.js';
import { loadConfigFile } from '../../src/config/load.js';
import type { IncidentEvent, IncidentEventType } from '../../src/incidents/types.js';
import { createLogger } from '../../src/lib/logger.js';

const TYPES: IncidentEventType[] = ['open', 'update', 'reminder', 'resolved'];

async function main(): Promise<void> {
  const config = loadConfigFile(process.argv[2]!);
  const logger = createLogger({ level: 'warn', write: (l) => process.stderr.write(l + '\n') });
  const notifier = new Notifier({ config: config.alerting, stateDir: config.state.dir, registry: new Registry(), logger });
  const out = (line: string) => process.stdout.write(line + '\n');
  const queue = async (ev: IncidentEvent) => {
    const key = await notifier.notify(ev);
    out(`queued ${key} ${ev.incident.id} ${ev.type}`);
  };
  await notifier.start();
  out('started');
  // Commands run one after another, so "queued" lines come out in queue order.
  let chain = Promise.resolve();
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const cmd = JSON.parse(line) as { event?: IncidentEvent; generate?: { incidents: number; rounds: number }; stop?: boolean };
    chain = chain.then(async () => {
      if (cmd.event) await queue(cmd.event);
      if (cmd.generate) {
        for (let r = 0; r < cmd.generate.rounds; r++)
          for (const type of TYPES)
            for (let i = 0; i < cmd.generate.incidents; i++) await queue(sampleEvent(`gen-${r}-${i}`, type));
      }
      if (cmd.stop) {
        await notifier.stop();
        process.exit(0);
      }
    });
  }
}

function sampleEvent(id: string, type: IncidentEventType): IncidentEvent {
  const at = Date.now();
  const iso = new Date(at).toISOString();
  return {
    type, at,
    incident: {
      id, status: type === 'resolved' ? 'resolved' : 'open', kind: 'asymmetric_routing', severity: 'critical',
      target: 'crash', address: '192.0.2.10', port: 80, service: null, announcerNode: 'node-1', suspectedNodes: ['node-2'],
      confidence: 0.99, failureRatio: 0.3, expectedFailureRatio: 0.33, attempts: 30, failures: 9, reasons: { connect_timeout: 9 },
      nodes: {}, summary: `${id} ${type}`, evidence: [], remediation: [], startedAt: iso, updatedAt: iso, resolvedAt: type === 'resolved' ? iso : null,
    },
  };
}

main().catch((err) => {
  process.stderr.write(`notifier-child: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(70);
});
