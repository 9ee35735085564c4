import { object, type Validator } from '../schema-dsl.js';

/** Placeholder: the 'diagnosis' section is filled in by its own module. */
export type DiagnosisConfig = Record<string, never>;
export const diagnosisSection: Validator<DiagnosisConfig> = object({}) as Validator<DiagnosisConfig>;
