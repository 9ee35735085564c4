/** What every diagnosis rule sees, and what a rule concludes. */
import type { DiagnosisConfig } from '../config/sections/diagnosis.js';
import type { Attempt } from '../history/attempt.js';
import type { Placement, Sample } from './sample.js';
import type { Tally } from './tally.js';
import type { ChangePoint, DiagnoseInput, IdentityMode, Verdict } from './types.js';

export interface Finding {
  verdict: Verdict;
  confidence: number;
  suspectedNodes?: string[];
  candidateNodes?: string[];
  expectedFailureRatio?: number | null;
  pValue?: number | null;
  recovered?: boolean;
  changePoint?: ChangePoint;
  summary: string;
  evidence: string[];
}

export interface Ctx {
  input: DiagnoseInput;
  cfg: DiagnosisConfig;
  sample: Sample;
  placement?: Placement;
  placementKnown: boolean;
  used: Attempt[];
  t: Tally;
  identity: IdentityMode;
  tx: number;
  name: string;
}
