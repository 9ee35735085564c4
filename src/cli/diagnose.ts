/**
 * `vipwatch diagnose ADDRESS[:PORT] …`: before any monitoring is set up, point one command at a VIP and get the
 * troubleshooting guide's answer on the spot. Fresh-connection attempts with the real probers, the cluster view with
 * --service, the same diagnosis as `vipwatch run`, and a report (text, or --json). Wiring only: the parts are
 * diagnose-args (command line), diagnose-cluster (view), diagnose-runner (attempts, early stop), diagnose-report /
 * -text / -json (output), diagnose-progress (stderr).
 */
import { DIAGNOSIS_DEFAULTS, type DiagnosisConfig } from '../config/sections/diagnosis.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { errorCode, errorMessage } from '../lib/errors.js';
import { silentLogger } from '../lib/logger.js';
import { createProbers } from '../probe/registry.js';
import type { Prober, Protocol } from '../probe/types.js';
import { SelfMonitor } from '../schedule/self-monitor.js';
import { UsageError } from './args.js';
import { parseDiagnoseArgs, type DiagnoseOptions } from './diagnose-args.js';
import { openClusterView, type OpenClusterView } from './diagnose-cluster.js';
import { DIAGNOSE_HELP } from './diagnose-help.js';
import { errorJson, reportJson } from './diagnose-json.js';
import { progressFor, type ProgressSink } from './diagnose-progress.js';
import { buildReport, DIAGNOSE_EXIT } from './diagnose-report.js';
import { runAttempts } from './diagnose-runner.js';
import { reportText } from './diagnose-text.js';
import { processIo, type CliIo } from './io.js';

export { DIAGNOSE_HELP };

/** The longest window the config allows (a day). */
const MAX_WINDOW_MS = 24 * 3_600_000;

/**
 * The diagnosis thresholds diagnose judges with: `vipwatch run`'s defaults, with a window that holds every attempt of
 * the run (the longest it can take, plus a minute; the daemon's 5 m would drop the oldest attempts of a long run).
 */
export function diagnoseConfig(run: Pick<DiagnoseOptions, 'count' | 'spacingMs'> & { timeoutMs: number }, over: Partial<DiagnosisConfig> = {}): DiagnosisConfig {
  const longest = run.count * (run.spacingMs + run.timeoutMs) + 60_000;
  return { ...DIAGNOSIS_DEFAULTS, windowMs: Math.min(MAX_WINDOW_MS, Math.ceil(longest / 1000) * 1000), ...over };
}

export interface DiagnoseDeps {
  clock?: Clock;
  probers?: Record<Protocol, Prober>;
  /** Replaces Ctrl-C (SIGINT) as what interrupts the run. */
  signal?: AbortSignal;
  /** Where progress goes; default stderr (a bar when it is a terminal and io is the process's). */
  progress?: ProgressSink;
  /** Overrides of the diagnosis thresholds (tests). */
  config?: Partial<DiagnosisConfig>;
}

export async function diagnoseCommand(argv: readonly string[], io: CliIo, deps: DiagnoseDeps = {}): Promise<number> {
  let parsed: ReturnType<typeof parseDiagnoseArgs>;
  try {
    parsed = parseDiagnoseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`vipwatch diagnose: ${err.message}`);
    io.err('Run "vipwatch diagnose --help" for usage.');
    return DIAGNOSE_EXIT.couldNotRun;
  }
  if (parsed.help) {
    io.out(DIAGNOSE_HELP);
    return DIAGNOSE_EXIT.healthy;
  }
  const opts = parsed;
  const clock = deps.clock ?? systemClock;
  const interrupt = interruptSignal(deps.signal);
  let cluster: OpenClusterView | undefined;
  try {
    if (opts.service !== undefined) {
      try {
        cluster = await openClusterView({ target: opts.target, kubeconfig: opts.kubeconfig, context: opts.context, env: io.env, clock, signal: interrupt.signal });
      } catch (err) {
        return couldNotRun(io, opts, err);
      }
    }
    return await run(opts, io, deps, clock, interrupt.signal, cluster);
  } finally {
    interrupt.dispose();
    await cluster?.close();
  }
}

async function run(opts: DiagnoseOptions, io: CliIo, deps: DiagnoseDeps, clock: Clock, signal: AbortSignal, cluster: OpenClusterView | undefined): Promise<number> {
  const config = diagnoseConfig({ count: opts.count, spacingMs: opts.spacingMs, timeoutMs: opts.target.timeoutMs }, deps.config);
  const probers = deps.probers ?? createProbers();
  const progress = progressFor(deps.progress ?? stderrProgress(io), opts.count);
  const self = new SelfMonitor({ clock, logger: silentLogger, stallThresholdMs: 250 });
  self.start();
  let outcome;
  try {
    outcome = await runAttempts({
      target: opts.target, prober: probers[opts.target.protocol], cluster: cluster?.source, config,
      count: opts.count, concurrency: opts.concurrency, spacingMs: opts.spacingMs, clock, signal,
      stalledBetween: (from, to) => self.stalledBetween(from, to),
      onAttempt: (a, d, n) => progress.attempt(a, d, n),
    });
  } finally {
    self.stop();
    progress.done();
  }
  const report = buildReport({ opts, outcome, config, clusterSource: cluster?.describe });
  if (opts.json) io.out(reportJson(report));
  else for (const line of reportText(report)) io.out(line);
  return report.exitCode;
}

function couldNotRun(io: CliIo, opts: DiagnoseOptions, err: unknown): number {
  const message = errorMessage(err);
  io.err(`vipwatch diagnose: cannot run: ${message}`);
  if (opts.json) io.out(errorJson(opts.target.name, errorCode(err) ?? 'unknown', message));
  return DIAGNOSE_EXIT.couldNotRun;
}

/** Ctrl-C (once: a second one takes Node's default and ends the process), or the caller's signal. */
function interruptSignal(given?: AbortSignal): { signal: AbortSignal; dispose(): void } {
  if (given) return { signal: given, dispose: () => {} };
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  return { signal: ac.signal, dispose: () => process.off('SIGINT', onSigint) };
}

function stderrProgress(io: CliIo): ProgressSink {
  const tty = io === processIo && process.stderr.isTTY === true;
  return { tty, write: (text) => process.stderr.write(text), line: (text) => io.err(text) };
}
