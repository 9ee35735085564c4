import { ERR } from './error-codes.js';
import { VipwatchError } from './errors.js';

/** One requirement of a Kubernetes label selector. */
export interface LabelRequirement {
  key: string;
  op: 'eq' | 'neq' | 'in' | 'notin' | 'exists' | 'notexists';
  values: string[];
}

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Parses the selector syntax kubectl accepts (=, ==, !=, in, notin, key, !key); throws VIPWATCH_LABEL_SELECTOR_INVALID. */
export function parseLabelSelector(text: string): LabelRequirement[] {
  const out: LabelRequirement[] = [];
  for (const part of splitTopLevel(text)) {
    const p = part.trim();
    if (p === '') throw invalid(text, 'empty requirement');
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^(\S+)\s+(in|notin)\s*\((.*)\)$/))) {
      const values = m[3]!.split(',').map((v) => v.trim());
      values.forEach((v) => checkValue(text, v));
      out.push({ key: checkKey(text, m[1]!), op: m[2] as 'in' | 'notin', values });
    } else if ((m = p.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      out.push({ key: checkKey(text, m[1]!), op: m[2] === '!=' ? 'neq' : 'eq', values: [checkValue(text, m[3]!)] });
    } else if ((m = p.match(/^!\s*(\S+)$/))) {
      out.push({ key: checkKey(text, m[1]!), op: 'notexists', values: [] });
    } else if (/^\S+$/.test(p)) {
      out.push({ key: checkKey(text, p), op: 'exists', values: [] });
    } else throw invalid(text, `cannot parse ${JSON.stringify(p)}`);
  }
  return out;
}

export function matchesLabels(reqs: readonly LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'eq': return has && v === r.values[0];
      case 'neq': return !has || v !== r.values[0];
      case 'in': return has && r.values.includes(v!);
      case 'notin': return !has || !r.values.includes(v!);
      case 'exists': return has;
      case 'notexists': return !has;
    }
  });
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

function checkKey(text: string, key: string): string {
  if (!KEY.test(key)) throw invalid(text, `invalid label key ${JSON.stringify(key)}`);
  return key;
}

function checkValue(text: string, value: string): string {
  if (!VALUE.test(value)) throw invalid(text, `invalid label value ${JSON.stringify(value)}`);
  return value;
}

function invalid(text: string, why: string): VipwatchError {
  return new VipwatchError(ERR.LABEL_SELECTOR_INVALID, `invalid label selector ${JSON.stringify(text)}: ${why}`);
}
