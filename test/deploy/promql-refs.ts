/**
 * The metric names and label names a PromQL expression refers to, read by a small tokenizer (no full parser: enough
 * for the kit's queries; promtool parses them for real). Grafana variables ($__rate_interval, $target, ${x}) are
 * replaced first.
 */

/** One selector: a metric name and the label names of its matchers. */
export interface SelectorRef {
  metric: string;
  labels: string[];
}

export interface PromqlRefs {
  selectors: SelectorRef[];
  /** Label names in by/without/on/ignoring/group_left/group_right clauses. */
  grouping: string[];
}

const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);
/** Aggregations may take their grouping before the parenthesis: `sum by (node) (...)`. */
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);

/** Grafana's variables, each replaced by something PromQL accepts where it stands (a duration or a regex). */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\[\s*\$\{?\w+\}?\s*\]/g, '[5m]').replace(/\$\{?\w+\}?/g, '.*');
}

export function promqlRefs(raw: string): PromqlRefs {
  const expr = withoutGrafanaVariables(raw);
  const selectors: SelectorRef[] = [];
  const grouping: string[] = [];
  let i = 0;
  const peek = () => {
    let j = i;
    while (/\s/.test(expr[j] ?? '')) j++;
    return expr[j];
  };
  const skipString = () => {
    const q = expr[i]!;
    i++;
    while (i < expr.length && expr[i] !== q) i += expr[i] === '\\' ? 2 : 1;
    i++;
  };
  /** Label names of a `{...}` block starting at i; leaves i after the `}`. */
  const matchers = (): string[] => {
    const names: string[] = [];
    i++;
    while (i < expr.length && expr[i] !== '}') {
      const c = expr[i]!;
      if (c === '"' || c === "'" || c === '`') skipString();
      else if (/[a-zA-Z_]/.test(c)) {
        const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(expr.slice(i))!;
        names.push(m[0]);
        i += m[0].length;
      } else i++;
    }
    i++;
    return names;
  };
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '"' || c === "'" || c === '`') skipString();
    else if (c === '[') i = expr.indexOf(']', i) + 1 || expr.length;
    else if (c === '{') selectors.push({ metric: '', labels: matchers() });
    else if (/[0-9.]/.test(c)) i += /^[0-9.][0-9a-zA-Z.+-]*/.exec(expr.slice(i))![0].length;
    else if (/[a-zA-Z_:]/.test(c)) {
      const word = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(i))![0];
      i += word.length;
      const next = peek();
      if (GROUPING.has(word)) {
        // group_left and group_right may stand without a label list.
        if (next !== '(') continue;
        i = expr.indexOf('(', i) + 1;
        const end = expr.indexOf(')', i);
        grouping.push(...expr.slice(i, end).split(',').map((s) => s.trim()).filter(Boolean));
        i = end + 1;
      } else if (next === '(' || KEYWORDS.has(word.toLowerCase()) || AGGREGATIONS.has(word)) {
        // A function or aggregation (its arguments are read on), or an operator keyword.
      } else {
        while (/\s/.test(expr[i] ?? '')) i++;
        selectors.push({ metric: word, labels: expr[i] === '{' ? matchers() : [] });
      }
    } else i++;
  }
  return { selectors, grouping };
}
