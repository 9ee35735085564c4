/**
 * Nesting checked before the YAML parser runs: the parser's time and memory grow faster than linearly with
 * nesting (800,000 "[" take it 16 s and 1 GB; an 8 MiB file of them never finishes), while a real config nests
 * a few levels. Flow collections ("[", "{") and block indicators on one line ("- - - x") are counted on yaml's
 * own streaming lexer, so quotes, comments and block scalars are understood, and it stops at the first excess.
 */
import { Lexer } from 'yaml';

export const MAX_NESTING = 100;

/** Lexer tokens that mark structure and are not source text. */
const MARKERS = new Set(['\x02', '\x18']);
const SCALAR = '\x1f';

/** The offset of the first token nested deeper than MAX_NESTING, or -1. */
export function tooDeep(text: string): number {
  if (!mayNestDeeply(text)) return -1;
  let offset = 0;
  let flow = 0;
  let block = 0;
  let scalarNext = false;
  for (const tok of new Lexer().lex(text)) {
    if (MARKERS.has(tok)) continue;
    if (tok === SCALAR) {
      scalarNext = true;
      continue;
    }
    const at = offset;
    offset += tok.length;
    if (scalarNext) {
      scalarNext = false;
      continue;
    }
    if (tok === '[' || tok === '{') flow++;
    else if (tok === ']' || tok === '}') flow = Math.max(0, flow - 1);
    else if (tok === '\n' || tok === '\r\n') block = 0;
    else if (flow === 0 && (tok === '-' || tok === '?' || tok === ':')) block++;
    else continue;
    if (flow > MAX_NESTING || block > MAX_NESTING) return at;
  }
  return -1;
}

/** A cheap upper bound: enough flow openers in the file, or enough block indicators on one line. */
function mayNestDeeply(text: string): boolean {
  let openers = 0;
  let onLine = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++openers > MAX_NESTING) return true;
    } else if (c === 0x2d || c === 0x3f || c === 0x3a) {
      if (++onLine > MAX_NESTING) return true;
    } else if (c === 0x0a) onLine = 0;
  }
  return false;
}

/** 1-based line and column of an offset. */
export function linePos(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1 };
}
