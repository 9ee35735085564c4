/**
 * Counters and histograms for the per-attempt hot path. prom-client hashes the label object on every inc/observe,
 * even through `labels()` children; these keep one mutable cell per label set and are rendered by prom-client's
 * registry like any other metric (same text format, checked by promtool in tests).
 */
import type { Registry } from 'prom-client';

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

interface Rendered {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: MetricValue[];
  aggregator: 'sum';
}

export interface CounterCell {
  value: number;
}

abstract class CellMetric<C> {
  protected readonly cells = new Map<string, { labels: string[]; cell: C }>();
  readonly aggregator = 'sum' as const;
  private beforeRead?: () => void;

  constructor(registry: Registry, readonly name: string, readonly help: string, readonly labelNames: readonly string[]) {
    registry.registerMetric(this as never);
  }

  /** The cell for these label values (in labelNames order); created at zero on first use. */
  cell(...labels: string[]): C {
    const key = labels.join('\u0000');
    let entry = this.cells.get(key);
    if (!entry) this.cells.set(key, (entry = { labels, cell: this.create() }));
    return entry.cell;
  }

  /** Removes every series whose label at `index` equals `value` (e.g. all series of a removed target). */
  removeWhere(index: number, value: string): void {
    for (const [k, e] of this.cells) if (e.labels[index] === value) this.cells.delete(k);
  }

  /** The value of the cell for these label values, without creating it (undefined when absent). */
  peek(...labels: string[]): C | undefined {
    return this.cells.get(labels.join('\u0000'))?.cell;
  }

  /** Removes the cell for exactly these label values. */
  remove(...labels: string[]): void {
    this.cells.delete(labels.join('\u0000'));
  }

  /**
   * Runs `fn` at the start of every read (render() and get()), like a prom-client collect(): for series that must
   * exist at 0 before their first event, created from state read at scrape time.
   */
  onRead(fn: () => void): void {
    this.beforeRead = fn;
  }

  reset(): void {
    this.cells.clear();
  }

  protected labelsOf(values: string[]): Record<string, string> {
    const out: Record<string, string> = {};
    this.labelNames.forEach((n, i) => (out[n] = values[i]!));
    return out;
  }

  protected abstract create(): C;

  /** The metric as prom-client's registry reads it (registry.metrics(), getSingleMetricAsString). */
  get(): Rendered {
    this.beforeRead?.();
    return { name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: 'sum' };
  }

  protected abstract values(): MetricValue[];

  /** Text lines (no HELP/TYPE) for one cell, exactly as prom-client's registry would print them. */
  protected abstract lines(labels: string, cell: C, out: string[]): void;

  /**
   * The metric in the Prometheus text format, exactly as prom-client's registry prints it, in pieces of about
   * `linesPerPiece` lines (every piece after the first starts with its newline): thousands of series render a little
   * at a time instead of in one block of the event loop.
   */
  *render(linesPerPiece = 2000): Generator<string> {
    this.beforeRead?.();
    let out: string[] = [`# HELP ${escape(this.name)} ${escape(this.help)}`, `# TYPE ${escape(this.name)} ${this.type}`];
    let first = true;
    for (const e of this.cells.values()) {
      this.lines(this.labelNames.map((n, i) => `${n}="${escapeLabel(e.labels[i]!)}"`).join(','), e.cell, out);
      if (out.length >= linesPerPiece) {
        yield (first ? '' : '\n') + out.join('\n');
        first = false;
        out = [];
      }
    }
    if (out.length || first) yield (first ? '' : '\n') + out.join('\n');
  }

  abstract readonly type: 'counter' | 'histogram';
}

/** prom-client's escaping and number printing, so both renderings are byte for byte the same. */
function escape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
function escapeLabel(s: string): string {
  return escape(s).replace(/"/g, '\\"');
}
function num(v: number): string {
  if (Number.isNaN(v)) return 'Nan';
  if (!Number.isFinite(v)) return v < 0 ? '-Inf' : '+Inf';
  return `${v}`;
}
const braces = (labels: string) => (labels ? `{${labels}}` : '');

/** A cell metric can render itself in pieces (see CellMetric.render). */
export function isCellMetric(m: unknown): m is { render(linesPerPiece?: number): Generator<string> } {
  return m instanceof CellMetric;
}

export class CellCounter extends CellMetric<CounterCell> {
  readonly type = 'counter' as const;

  protected create(): CounterCell {
    return { value: 0 };
  }

  protected lines(labels: string, cell: CounterCell, out: string[]): void {
    out.push(`${this.name}${braces(labels)} ${num(cell.value)}`);
  }

  protected values(): MetricValue[] {
    const values: MetricValue[] = [];
    for (const e of this.cells.values()) values.push({ labels: this.labelsOf(e.labels), value: e.cell.value });
    return values;
  }
}

export class HistogramCell {
  sum = 0;
  count = 0;
  readonly counts: Float64Array;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

export class CellHistogram extends CellMetric<HistogramCell> {
  readonly type = 'histogram' as const;

  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[]) {
    super(registry, name, help, labelNames);
  }

  protected create(): HistogramCell {
    return new HistogramCell(this.buckets);
  }

  protected lines(labels: string, cell: HistogramCell, out: string[]): void {
    const rest = labels ? `,${labels}` : '';
    let acc = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      acc += cell.counts[i]!;
      out.push(`${this.name}_bucket{le="${this.buckets[i]}"${rest}} ${num(acc)}`);
    }
    out.push(`${this.name}_bucket{le="+Inf"${rest}} ${num(cell.count)}`);
    out.push(`${this.name}_sum${braces(labels)} ${num(cell.sum)}`);
    out.push(`${this.name}_count${braces(labels)} ${num(cell.count)}`);
  }

  protected values(): MetricValue[] {
    const values: MetricValue[] = [];
    for (const e of this.cells.values()) {
      const labels = this.labelsOf(e.labels);
      let acc = 0;
      this.buckets.forEach((le, i) => {
        acc += e.cell.counts[i]!;
        values.push({ labels: { le, ...labels }, value: acc, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...labels }, value: e.cell.count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: e.cell.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: e.cell.count, metricName: `${this.name}_count` });
    }
    return values;
  }
}
