import { object, type Validator } from '../schema-dsl.js';

/** Placeholder: the 'alerting' section is filled in by its own module. */
export type AlertingConfig = Record<string, never>;
export const alertingSection: Validator<AlertingConfig> = object({}) as Validator<AlertingConfig>;
