// The label-selector grammar lives in src/lib (config validation checks it too); this path stays for the cluster
// files that still import it from here.
export { matchesLabels, parseLabelSelector, type LabelRequirement } from '../lib/label-selector.js';
