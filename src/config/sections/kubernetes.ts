import { object, type Validator } from '../schema-dsl.js';

/** Placeholder: the 'kubernetes' section is filled in by its own module. */
export type KubernetesConfig = Record<string, never>;
export const kubernetesSection: Validator<KubernetesConfig> = object({}) as Validator<KubernetesConfig>;
