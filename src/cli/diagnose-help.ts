/**
 * `vipwatch diagnose --help`, apart from the command so that main.ts can show it without loading the probe engine
 * (diagnose.ts re-exports it).
 */
import { DIAGNOSIS_DEFAULTS } from '../config/sections/diagnosis.js';
import { DIAGNOSE_DEFAULTS, MAX_COUNT, MIN_COUNT } from './diagnose-args.js';
import { healthyAttemptsNeeded } from './diagnose-stop.js';

export const DIAGNOSE_HELP = `Usage: vipwatch diagnose ADDRESS[:PORT] [--http PATH] [--https [--insecure]]
                         [--backend-header H | --backend-json-field F] [--count N] [--concurrency C]
                         [--timeout D] [--spacing D] [--service NS/NAME [--kubeconfig FILE] [--context C]] [--json]

Makes N fresh-connection attempts to ADDRESS now (never retried, never kept alive: each one lets kube-proxy pick a
backend anew), runs the same diagnosis as "vipwatch run" and prints the verdict with its confidence, successes and
failures per node (observed or inferred), the failure reasons, the decision path and the remediation commands.
IPv6: [2001:db8::1]:443. PORT defaults to 80 (443 with --https).

  --http PATH              HTTP GET PATH (any 200-399 is a success); without --http/--https: a TCP connect
  --https                  HTTPS (certificate verified; --insecure skips the check); PATH defaults to /
  --backend-header H       response header naming the node, pod or pod IP that served it (e.g. X-Node)
  --backend-json-field F   or a top-level field of a JSON body
  --count N                attempts (default ${DIAGNOSE_DEFAULTS.count}, ${MIN_COUNT}-${MAX_COUNT})
  --concurrency C          attempts in flight at once (default ${DIAGNOSE_DEFAULTS.concurrency})
  --timeout D              per attempt, e.g. 2s or 500ms (default ${DIAGNOSE_DEFAULTS.timeoutMs / 1000}s; above ~1.2s a SYN retransmission
                           fits, which tells a path drop from random loss without --backend-header)
  --spacing D              between attempt starts (default ${DIAGNOSE_DEFAULTS.spacingMs}ms)
  --service NS/NAME        read the Service's endpoints, nodes and announcer from the Kubernetes API (read-only)
  --kubeconfig FILE        with --service; default $KUBECONFIG, ~/.kube/config, or in-cluster
  --context C              with --service: the kubeconfig context
  --json                   one JSON document on stdout instead of the report

Stops early once the verdict is certain either way, and says after how many attempts: healthy once the failure ratio's
upper bound is below the noise floor (${healthyAttemptsNeeded(DIAGNOSIS_DEFAULTS)} attempts without a failure at the defaults), a problem once
its chance under "nothing is wrong" is at most pValue squared (1e-8) and, when backends name themselves, the node is
named. Progress goes to stderr (a bar on a terminal). Ctrl-C stops and reports what was recorded; a second one exits.
Exit codes: 0 healthy, 1 a problem found, 2 could not run (usage error, invalid address, the cluster view asked for
with --service unavailable, too few attempts to judge).`;
