/** The streamed /metrics text is byte for byte prom-client's, escaping included, whatever the piece size. */
import { Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CellCounter, CellHistogram } from '../../src/metrics/cells.js';
import { renderMetrics } from '../../src/metrics/render.js';

async function streamed(registry: Registry): Promise<string> {
  let out = '';
  for await (const piece of renderMetrics(registry)) out += piece;
  return out;
}

describe('renderMetrics', () => {
  it('matches registry.metrics() for cell counters and histograms (odd label values, empty metrics) and prom-client metrics', async () => {
    const registry = new Registry();
    const c = new CellCounter(registry, 'x_total', 'A help with a \\ backslash\nand a newline.', ['target', 'reason']);
    const h = new CellHistogram(registry, 'x_seconds', 'Durations.', ['target', 'phase'], [0.001, 0.5, 2]);
    new CellCounter(registry, 'x_empty_total', 'Nothing yet.', ['target']);
    const g = new Gauge({ name: 'x_gauge', help: 'A gauge.', labelNames: ['kind'], registers: [registry] });
    new Counter({ name: 'x_plain_total', help: 'prom-client counter.', registers: [registry] }).inc(3);
    g.labels('EMFILE').set(1);
    const odd = ['web', 'quote " in it', 'back \\ slash', 'new\nline', 'ünïcödé'];
    for (let i = 0; i < 3000; i++) {
      const t = odd[i % odd.length]! + (i % 700);
      c.cell(t, 'connect_timeout').value += i;
      const cell = h.cell(t, i % 2 ? 'connect' : 'total');
      cell.observe(i / 1000);
      cell.observe(Infinity);
    }
    c.cell('nan', 'x').value = NaN;
    const expected = await registry.metrics();
    expect(await streamed(registry)).toBe(expected);
    // Small pieces join up the same way.
    let small = '';
    for (const piece of h.render(7)) small += piece;
    const hist = expected.split('\n\n').find((b) => b.startsWith('# HELP x_seconds'))!;
    expect(small).toBe(hist);
    expect(await streamed(new Registry())).toBe(await new Registry().metrics());
  });
});
