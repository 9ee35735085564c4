/**
 * A worker thread of the wall-time evaluation: runs the jobs it was started with, one after the other, and posts their
 * results back in one message. It does something only when started as such a worker (workerData.role), never on a
 * plain import. The jobs come with the worker's start so it runs while the main thread is busy with other work.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runJob, type JobResult, type WallJob } from './walltime-scenarios.js';

export const WORKER_ROLE = 'vipwatch-eval-walltime';

export interface WorkerData {
  role: typeof WORKER_ROLE;
  jobs: WallJob[];
}

export type WorkerReply = { ok: true; results: JobResult[] } | { ok: false; error: string };

async function runAll(jobs: WallJob[]): Promise<JobResult[]> {
  const out: JobResult[] = [];
  for (const j of jobs) out.push(await runJob(j));
  return out;
}

const data = workerData as Partial<WorkerData> | undefined;
if (parentPort && data?.role === WORKER_ROLE) {
  const port = parentPort;
  runAll(data.jobs ?? []).then(
    (results) => port.postMessage({ ok: true, results } satisfies WorkerReply),
    (err: unknown) => port.postMessage({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies WorkerReply),
  );
}
