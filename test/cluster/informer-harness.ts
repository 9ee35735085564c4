/** An Informer of Services against a real fake API server on 127.0.0.1, on a fake clock, with its logs captured. */
import { Registry } from 'prom-client';
import { registerClusterMetrics } from '../../src/cluster/cluster-metrics.js';
import { credentialSource } from '../../src/cluster/credentials.js';
import { Informer, type InformerTiming } from '../../src/cluster/informer.js';
import { KubeClient, type KubeClientLimits } from '../../src/cluster/kube-client.js';
import { parseService, type ServiceObj } from '../../src/cluster/objects.js';
import { IndexedStore } from '../../src/cluster/store.js';
import { FakeClock } from '../support/fake-clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { FakeKubeApi } from '../support/fake-kube-api.js';
import { fixtureObjects } from './helpers.js';

export type LogLine = { level: string; msg: string; [k: string]: unknown };

export interface Harness {
  api: FakeKubeApi;
  clock: FakeClock;
  client: KubeClient;
  store: IndexedStore<ServiceObj>;
  informer: Informer<ServiceObj>;
  logs: LogLine[];
  changes: () => number;
  /** The client has an open watch: its 200 arrived (onOpen ran) and the stream has not ended. */
  watching: () => boolean;
  /** The value of vipwatch_kube_up{resource="services"} as a scrape would show it. */
  kubeUp: () => Promise<number | undefined>;
}

export interface HarnessOptions {
  timing?: Partial<InformerTiming>;
  /** Jitter source (default 1: every delay is the full backoff step). */
  random?: () => number;
  /** Load the three fixture Services first (default true). */
  seed?: boolean;
  limits?: KubeClientLimits;
  /** Prepare the server before the informer starts (faults, objects). */
  before?: (api: FakeKubeApi) => void;
}

export const DEFAULT_TIMING: InformerTiming = {
  requestTimeoutMs: 10_000, watchTimeoutMs: 60_000, resyncIntervalMs: 600_000, minWatchDurationMs: 1000,
  backoff: { initialMs: 1000, maxMs: 8000 },
};

/** Starts the harness; `cleanups` gets the function that stops it (call them in afterEach). */
export async function informerHarness(cleanups: (() => Promise<void>)[], o: HarnessOptions = {}): Promise<Harness> {
  const api = new FakeKubeApi();
  await api.start();
  if (o.seed !== false) for (const obj of fixtureObjects()) api.apply(obj);
  o.before?.(api);
  const clock = new FakeClock();
  const logs: LogLine[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => logs.push(JSON.parse(l) as LogLine), now: () => clock.now() });
  const client = new KubeClient({ server: api.url, tls: { insecureSkipVerify: false }, auth: { kind: 'none' }, describe: 'test' },
    credentialSource({ kind: 'none' }, clock), 10_000, o.limits);
  // The server registers a watch before its 200 reaches the client: tests that move fake time while a watch is open
  // must wait for the client's side too, or the watch opens after the step and looks short.
  let watching = false;
  const watch = client.watch.bind(client);
  client.watch = async (path, query, signal, handlers) => {
    try {
      const onOpen = () => {
        watching = true;
        handlers.onOpen();
      };
      return await watch(path, query, signal, { ...handlers, onOpen });
    } finally {
      watching = false;
    }
  };
  const store = new IndexedStore<ServiceObj>();
  let changes = 0;
  const informer = new Informer<ServiceObj>({
    resource: 'services', path: '/api/v1/services', parse: parseService, store, client, clock, logger, random: o.random ?? (() => 1),
    timing: { ...DEFAULT_TIMING, ...o.timing },
    onChange: () => changes++,
  });
  const registry = new Registry();
  registerClusterMetrics(registry, { targets: () => [], viewFor: () => undefined, resources: () => [informer.status()] });
  const kubeUp = async () => (await registry.getSingleMetric('vipwatch_kube_up')!.get()).values.find((v) => v.labels.resource === 'services')?.value;
  const ac = new AbortController();
  const running = informer.run(ac.signal);
  cleanups.push(async () => {
    ac.abort();
    await running;
    await client.close();
    await api.stop();
  });
  return { api, clock, client, store, informer, logs, changes: () => changes, watching: () => watching, kubeUp };
}

/** Listed and watching: the state is synced and one watch is open, on both ends. */
export const synced = (h: Harness) => () => h.informer.status().state === 'synced' && h.api.openWatches('services') === 1 && h.watching();
