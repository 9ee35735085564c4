import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { alertLabelSets } from '../../src/alerting/alertmanager-alert.js';
import { mailSubject, renderMail } from '../../src/alerting/email-render.js';
import type { Notification } from '../../src/alerting/notification.js';
import { DIAGNOSIS_DEFAULTS } from '../../src/config/sections/diagnosis.js';
import { IncidentMetrics } from '../../src/incidents/metrics.js';
import { newIncident } from '../../src/incidents/record.js';
import { checkIncident } from '../../src/incidents/validate.js';
import { INCIDENT_KINDS } from '../../src/lib/incident-kinds.js';
import { context, run, Stream, web } from './helpers.js';

/** A split-brain diagnosis (node-3's MAC fails, node-1's works), made by the real rule. */
function conflictDiagnosis() {
  const n1 = context({ neighbour: { macs: ['02:00:00:00:00:01'], nodes: ['node-1'], steady: true } });
  const n3 = context({ neighbour: { macs: ['02:00:00:00:00:03'], nodes: ['node-3'], steady: true } });
  const s = new Stream().view(n1).add('123', 14);
  for (let k = 0; k < 8; k++) s.view(n3).add('XXXX').view(n1).add('1231');
  const d = run(s);
  expect(d.verdict).toBe('announcement_conflict');
  return d;
}

describe('announcement_conflict through the kind lists (incident record, alerting, metrics)', () => {
  it('is a closed-set kind, and its incident passes the record contract', () => {
    expect(INCIDENT_KINDS).toContain('announcement_conflict');
    const d = conflictDiagnosis();
    const inc = newIncident(web, d, 'announcement_conflict', d.at, DIAGNOSIS_DEFAULTS);
    expect(checkIncident(JSON.parse(JSON.stringify(inc)))).toMatchObject({ kind: 'announcement_conflict', suspectedNodes: ['node-3'], announcerNode: 'node-1' });
    expect(inc.remediation.join('\n')).toContain('strictARP');
  });

  it('renders in the email subject and body and as its own Alertmanager alert per suspected node', () => {
    const d = conflictDiagnosis();
    const n: Notification = { id: 'n1', seq: 1, event: 'open', at: d.at, queuedAt: d.at, instance: 'probe-a', incident: newIncident(web, d, 'announcement_conflict', d.at, DIAGNOSIS_DEFAULTS) };
    expect(mailSubject(n)).toBe('[vipwatch] OPEN announcement_conflict web 192.0.2.100:80 — node-3');
    expect(renderMail(n).text).toContain('MAC timeline');
    expect(alertLabelSets(n)).toEqual([expect.objectContaining({ alertname: 'VipAnnouncementConflict', kind: 'announcement_conflict', node: 'node-3', target: 'web' })]);
  });

  it('has its zero series in the per-kind gauges, and its confidence when diagnosed', async () => {
    const registry = new Registry();
    const m = new IncidentMetrics(registry, { knownTargets: () => ['web'], list: () => [] });
    m.recordDiagnosis(conflictDiagnosis());
    const text = await registry.metrics();
    expect(text).toContain('vipwatch_incident_open{target="web",kind="announcement_conflict"} 0');
    expect(text).toMatch(/vipwatch_diagnosis_confidence\{target="web",kind="announcement_conflict"\} (1|0\.9\d*)/);
    expect(text).toContain('vipwatch_diagnosis_confidence{target="web",kind="packet_loss"} 0');
  });
});
