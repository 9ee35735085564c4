import { deadlineSignal, sleep, type Clock } from '../lib/clock.js';
import { errorCode, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { Backoff } from './backoff.js';
import type { KubeClient, WatchEvent } from './kube-client.js';
import { objectKey, parseMeta, resourceVersionOf, type ObjectMeta } from './objects.js';
import type { IndexedStore } from './store.js';
import type { ResourceState, ResourceStatus } from './types.js';

export interface InformerTiming {
  requestTimeoutMs: number;
  watchTimeoutMs: number;
  resyncIntervalMs: number;
  backoff: { initialMs: number; maxMs: number };
}

export interface InformerOptions<T extends { meta: ObjectMeta }> {
  /** Plural resource name, for logs and metrics. */
  resource: string;
  path: string;
  query?: Record<string, string>;
  parse(raw: unknown): T | undefined;
  store: IndexedStore<T>;
  client: KubeClient;
  clock: Clock;
  logger: Logger;
  timing: InformerTiming;
  random?: () => number;
  onChange(): void;
}

/** Extra time a watch gets past its server-side timeoutSeconds before it counts as silently stalled. */
export const WATCH_GRACE_MS = 5000;

/**
 * List, then watch from the list's resourceVersion; relist on 410 (HTTP or ERROR event) and every resync interval;
 * reconnect a broken or stalled watch with capped, jittered backoff. run() never throws: failures become state.
 */
export class Informer<T extends { meta: ObjectMeta }> {
  private state: ResourceState = 'starting';
  private lastSyncAt?: number;
  private lastError?: string;
  private rv?: string;
  private nextResyncAt = 0;
  private expiredInRow = 0;
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private settle!: () => void;
  /** Resolves at the first outcome: synced, failing or disabled (or when run() ends). */
  readonly settled = new Promise<void>((r) => (this.settle = r));

  constructor(private readonly o: InformerOptions<T>) {
    this.backoff = new Backoff(o.timing.backoff.initialMs, o.timing.backoff.maxMs, o.random);
    this.log = o.logger.child({ resource: o.resource });
  }

  get resource(): string {
    return this.o.resource;
  }

  status(): ResourceStatus {
    return { resource: this.o.resource, state: this.state, lastSyncAt: this.lastSyncAt, lastError: this.lastError };
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let wait = 0;
      try {
        if (this.rv === undefined || this.o.clock.monotonic() >= this.nextResyncAt) await this.relist(signal);
        await this.watchOnce(signal);
      } catch (err) {
        if (signal.aborted) break;
        wait = this.handleError(err);
      }
      this.settle();
      if (wait > 0) {
        try {
          await sleep(this.o.clock, wait, signal);
        } catch {
          break;
        }
      }
    }
    this.settle();
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const d = deadlineSignal(this.o.clock, this.o.timing.requestTimeoutMs, signal);
    let list;
    try {
      list = await this.o.client.list(this.o.path, this.o.query ?? {}, d.signal);
    } finally {
      d.cancel();
    }
    const entries: [string, T][] = [];
    for (const raw of list.items) {
      const item = this.o.parse(raw);
      if (item) entries.push([objectKey(item.meta), item]);
    }
    this.o.store.replace(entries);
    this.rv = list.resourceVersion;
    this.nextResyncAt = this.o.clock.monotonic() + this.o.timing.resyncIntervalMs;
    this.confirmed();
    this.o.onChange();
  }

  private async watchOnce(signal: AbortSignal): Promise<void> {
    const { watchTimeoutMs } = this.o.timing;
    const d = deadlineSignal(this.o.clock, watchTimeoutMs + WATCH_GRACE_MS, signal);
    const query = {
      ...this.o.query,
      resourceVersion: this.rv!,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(Math.max(1, Math.ceil(watchTimeoutMs / 1000))),
    };
    try {
      await this.o.client.watch(this.o.path, query, d.signal, {
        onOpen: () => this.confirmed(),
        onEvent: (e) => this.apply(e),
      });
    } finally {
      d.cancel();
    }
    // A watch the server ended on time missed nothing up to now.
    this.expiredInRow = 0;
    this.confirmed();
  }

  private apply(e: WatchEvent): void {
    this.expiredInRow = 0;
    const rv = resourceVersionOf(e.object);
    if (e.type === 'BOOKMARK') {
      if (rv) this.rv = rv;
      this.confirmed();
      return;
    }
    if (e.type === 'DELETED') {
      const meta = parseMeta(e.object);
      if (meta) this.o.store.delete(objectKey(meta));
    } else {
      const item = this.o.parse(e.object);
      if (item) this.o.store.set(objectKey(item.meta), item);
      else this.log.debug('kubernetes object skipped: malformed', { event: e.type });
    }
    if (rv) this.rv = rv;
    this.confirmed();
    this.o.onChange();
  }

  private confirmed(): void {
    this.settle();
    this.lastSyncAt = this.o.clock.now();
    if (this.state !== 'synced') {
      if (this.state === 'failing' || this.state === 'disabled') this.log.info('kubernetes source recovered', { was: this.state });
      this.state = 'synced';
    }
    this.lastError = undefined;
    this.backoff.reset();
  }

  /** Returns how long to wait before the next try. */
  private handleError(err: unknown): number {
    const code = errorCode(err);
    const message = errorMessage(err);
    if (code === 'VIPWATCH_KUBE_EXPIRED') {
      // The resourceVersion is gone: relist at once, but back off if relisting keeps ending in 410.
      this.log.debug('kubernetes resourceVersion expired; relisting', { error: message });
      this.rv = undefined;
      this.expiredInRow++;
      return this.expiredInRow > 1 ? this.backoff.next() : 0;
    }
    this.lastError = message;
    if (code === 'VIPWATCH_KUBE_FORBIDDEN' || code === 'VIPWATCH_KUBE_NOT_FOUND') {
      if (this.state !== 'disabled')
        this.log.warn('kubernetes source disabled: the API refuses this resource (check RBAC or whether the CRD is installed); retrying once per resync interval', { error: message, code });
      this.state = 'disabled';
      this.rv = undefined;
      if (this.o.store.size) {
        this.o.store.clear();
        this.o.onChange();
      }
      return this.o.timing.resyncIntervalMs;
    }
    if (this.state !== 'failing') this.log.warn('kubernetes source failing; retrying with backoff', { error: message, code });
    else this.log.debug('kubernetes source still failing', { error: message, code });
    this.state = 'failing';
    return this.backoff.next();
  }
}
