/**
 * The report of `vipwatch diagnose --json`: one JSON document on stdout for machines. `schema` names its version; the
 * full diagnosis (the same record /api/v1/targets serves as `diagnosis`) is under `diagnosis`.
 */
import type { DiagnoseReport } from './diagnose-report.js';

export const DIAGNOSE_JSON_SCHEMA = 'vipwatch.diagnose/v1';

export function reportJson(r: DiagnoseReport): string {
  return JSON.stringify({ schema: DIAGNOSE_JSON_SCHEMA, ...r });
}

/** The document when diagnose could not run (exit 2 after the arguments were understood): the error's stable code. */
export function errorJson(target: string, code: string, message: string): string {
  return JSON.stringify({ schema: DIAGNOSE_JSON_SCHEMA, target: { display: target }, exitCode: 2, error: { code, message } });
}
