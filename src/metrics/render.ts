/**
 * /metrics as a stream: the same text as prom-client's `registry.metrics()`, byte for byte, but produced one metric
 * (and, for the per-target cell metrics, a couple of thousand lines) at a time. At 2,000 targets the exposition is
 * ~12 MB and ~150,000 lines; built in one piece it held the event loop ~0.7 s on every scrape, far past the stall
 * threshold, so every scrape flagged a second of attempts as stalled. Streamed, the HTTP server yields between pieces.
 */
import type { Registry } from 'prom-client';
import { isCellMetric } from './cells.js';

export async function* renderMetrics(registry: Registry): AsyncGenerator<string> {
  let sep = '';
  for (const m of registry.getMetricsAsArray()) {
    if (isCellMetric(m)) {
      for (const piece of m.render()) {
        yield sep + piece;
        sep = '';
      }
    } else {
      // prom-client's own rendering for everything else (gauges with collect(), a few series each per target).
      yield sep + (await registry.getSingleMetricAsString((m as { name: string }).name));
    }
    sep = '\n\n';
  }
  yield '\n';
}
