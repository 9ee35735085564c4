/** Incident and diagnosis gauges on an injected registry (never the global one). */
import { Gauge, type Registry } from 'prom-client';
import type { Diagnosis } from '../diagnosis/types.js';
import { INCIDENT_KINDS, type Incident } from './types.js';

export interface IncidentMetricsSource {
  /** Targets to report (0 for every kind unless an incident of that kind is open). */
  knownTargets(): string[];
  list(opts: { includeResolved?: boolean }): Incident[];
}

export class IncidentMetrics {
  private readonly confidence: Gauge<'target' | 'kind'>;

  constructor(registry: Registry, source: IncidentMetricsSource) {
    new Gauge({
      name: 'vipwatch_incident_open',
      help: 'Whether an incident of this kind is open for the target (1) or not (0).',
      labelNames: ['target', 'kind'],
      registers: [registry],
      collect() {
        this.reset();
        const open = new Set(source.list({ includeResolved: false }).map((i) => `${i.target}\0${i.kind}`));
        const targets = new Set([...source.knownTargets(), ...[...open].map((k) => k.split('\0')[0]!)]);
        for (const t of targets) for (const k of INCIDENT_KINDS) this.labels(t, k).set(open.has(`${t}\0${k}`) ? 1 : 0);
      },
    });
    this.confidence = new Gauge({
      name: 'vipwatch_diagnosis_confidence',
      help: 'Confidence (0..1) of the current diagnosis for the target, per kind; 0 for kinds not diagnosed now.',
      labelNames: ['target', 'kind'],
      registers: [registry],
    });
  }

  /** Records a target's newest diagnosis. */
  recordDiagnosis(d: Diagnosis): void {
    for (const k of INCIDENT_KINDS) this.confidence.labels(d.target, k).set(d.verdict === k ? d.confidence : 0);
  }

  /** Drops the series of a target that is gone. */
  forget(target: string): void {
    for (const k of INCIDENT_KINDS) this.confidence.remove(target, k);
  }
}
