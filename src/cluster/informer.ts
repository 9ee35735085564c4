import { deadlineSignal, sleep, type Clock, type TimerHandle } from '../lib/clock.js';
import { ERR } from '../lib/error-codes.js';
import { errorCode, errorMessage, VipwatchError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { Backoff } from '../lib/backoff.js';
import type { KubeClient, WatchEvent } from './kube-client.js';
import { LogLimiter } from './log-limiter.js';
import { objectKey, parseMeta, resourceVersionOf, type ObjectMeta } from './objects.js';
import type { LoopStore } from './store.js';
import type { ResourceState, ResourceStatus } from './types.js';

export interface InformerTiming {
  requestTimeoutMs: number;
  watchTimeoutMs: number;
  resyncIntervalMs: number;
  /**
   * A watch must stay open this long to count as healthy (kubernetes.minWatchDuration; 0 turns the check off). One
   * that ends sooner, cleanly or not, counts as a failure: the backoff grows instead of being reset by the 200.
   */
  minWatchDurationMs: number;
  backoff: { initialMs: number; maxMs: number };
}

export interface InformerOptions<T extends { meta: ObjectMeta }> {
  /** Plural resource name, for logs and metrics. */
  resource: string;
  /** The namespace a per-namespace loop reads (logs and status); undefined for a cluster-wide or cluster-scoped one. */
  namespace?: string;
  path: string;
  query?: Record<string, string>;
  parse(raw: unknown): T | undefined;
  /** The store, or for a per-namespace loop the part of it that namespace owns. */
  store: LoopStore<T>;
  client: KubeClient;
  clock: Clock;
  logger: Logger;
  timing: InformerTiming;
  random?: () => number;
  onChange(): void;
  /**
   * Explains a 403 (which request, which RBAC rule is missing) for the log line and lastError; the API's own message
   * follows it. Without it the API's message alone is used.
   */
  forbidden?(verb: 'list' | 'watch'): string;
}

/** Extra time a watch gets past its server-side timeoutSeconds before it counts as silently stalled. */
export const WATCH_GRACE_MS = 5000;

/** Watches in a row that end before minWatchDuration before the resource is reported failing (vipwatch_kube_up 0). */
export const SHORT_WATCH_LIMIT = 3;

/** The same kind of failure (error code) is logged at warn at most once per this window; repeats go to debug. */
export const FAILURE_LOG_WINDOW_MS = 10 * 60_000;

/**
 * List, then watch from the list's resourceVersion; relist on 410 (HTTP or ERROR event), on a stream that cannot be
 * trusted (garbage or an oversized line) and every resync interval; reconnect a broken, stalled or too short watch with
 * capped, jittered backoff. The backoff is reset only by a watch that stayed open minWatchDuration, so a server that
 * answers 200 and hangs up at once is retried ever more slowly, not thousands of times a second. After a watch ended
 * early, only a watch that lives minWatchDuration brings the resource back to synced. run() never throws: failures
 * become state, and each kind of failure is logged at most once per FAILURE_LOG_WINDOW_MS.
 */
export class Informer<T extends { meta: ObjectMeta }> {
  private state: ResourceState = 'starting';
  private lastSyncAt?: number;
  private lastError?: string;
  private rv?: string;
  private nextResyncAt = 0;
  private expiredInRow = 0;
  /** Watches in a row that ended (cleanly or not) before minWatchDuration. */
  private shortInRow = 0;
  /** A warn line told about the current failure, so its recovery is worth an info line too. */
  private announced = false;
  /** The request in flight, for the 403 explanation. */
  private verb: 'list' | 'watch' = 'list';
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private readonly limiter: LogLimiter;
  private settle!: () => void;
  /** Resolves at the first outcome: synced, failing or disabled (or when run() ends). */
  readonly settled = new Promise<void>((r) => (this.settle = r));

  constructor(private readonly o: InformerOptions<T>) {
    this.backoff = new Backoff(o.timing.backoff.initialMs, o.timing.backoff.maxMs, o.random);
    this.log = o.logger.child({ resource: o.resource, ...(o.namespace !== undefined ? { namespace: o.namespace } : {}) });
    this.limiter = new LogLimiter(o.clock, FAILURE_LOG_WINDOW_MS);
  }

  get resource(): string {
    return this.o.resource;
  }

  status(): ResourceStatus {
    const s: ResourceStatus = { resource: this.o.resource, state: this.state, lastSyncAt: this.lastSyncAt, lastError: this.lastError };
    if (this.o.namespace !== undefined) s.namespace = this.o.namespace;
    return s;
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
    this.verb = 'list';
    try {
      list = await this.o.client.list(this.o.path, this.o.query ?? {}, d.signal);
    } finally {
      d.cancel();
    }
    const entries: [string, T][] = [];
    let skipped = 0;
    let example: unknown;
    for (const raw of list.items) {
      const item = this.o.parse(raw);
      if (item) entries.push([objectKey(item.meta), item]);
      else if (skipped++ === 0) example = raw;
    }
    if (skipped) this.skippedMalformed(skipped, example, 'list');
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
    const min = this.o.timing.minWatchDurationMs;
    let openedAt: number | undefined;
    let proving: TimerHandle | undefined;
    const lived = () => this.o.clock.monotonic() - openedAt!;
    this.verb = 'watch';
    try {
      await this.o.client.watch(this.o.path, query, d.signal, {
        onOpen: () => {
          openedAt = this.o.clock.monotonic();
          this.confirmed();
          if (min > 0) proving = this.o.clock.setTimeout(() => this.proven(), min);
          else this.proven();
        },
        onEvent: (e) => this.apply(e),
      });
    } catch (err) {
      if (openedAt !== undefined && lived() < min) this.shortInRow++;
      throw err;
    } finally {
      d.cancel();
      this.o.clock.clearTimeout(proving);
    }
    if (lived() < min) {
      this.shortInRow++;
      throw new VipwatchError(ERR.KUBE_WATCH_SHORT,
        `watch ${this.o.path}: the server ended the watch after ${Math.round(lived())}ms, before kubernetes.minWatchDuration (${min}ms); ${this.shortInRow} in a row`);
    }
    // A watch the server ended on time missed nothing up to now.
    this.expiredInRow = 0;
    this.confirmed();
  }

  /**
   * The watch stayed open minWatchDuration: the API works, the backoff starts over and the state may turn synced.
   * lastSyncAt stays as it was: time passing is no confirmation of the data (a silently stalled stream looks the same).
   */
  private proven(): void {
    this.shortInRow = 0;
    this.backoff.reset();
    this.markSynced();
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
      else this.skippedMalformed(1, e.object, e.type);
    }
    if (rv) this.rv = rv;
    this.confirmed();
    this.o.onChange();
  }

  /**
   * The API answered with current data. The resource turns synced unless recent watches ended early: then only a
   * watch that lives minWatchDuration (proven) does, so a flapping stream does not flap the state and the logs.
   */
  private confirmed(): void {
    this.settle();
    this.lastSyncAt = this.o.clock.now();
    this.markSynced();
  }

  private markSynced(): void {
    if (this.shortInRow > 0) return;
    if (this.state !== 'synced') {
      if (this.state === 'failing' || this.state === 'disabled') {
        if (this.announced) this.log.info('kubernetes source recovered', { was: this.state });
        else this.log.debug('kubernetes source recovered', { was: this.state });
      }
      this.announced = false;
      this.state = 'synced';
    }
    this.lastError = undefined;
  }

  /** Objects the parser rejects are left out of the view; one warn line per window says so, with one of them. */
  private skippedMalformed(count: number, example: unknown, from: string): void {
    const { log, suppressed } = this.limiter.take('malformed');
    const meta = parseMeta(example);
    const fields = { count, from, example: meta ? objectKey(meta) : '(no name)', ...(suppressed ? { suppressed } : {}) };
    if (log) this.log.warn('kubernetes objects skipped: malformed (they are left out of the cluster view)', fields);
    else this.log.debug('kubernetes objects skipped: malformed', fields);
  }

  /** Returns how long to wait before the next try. */
  private handleError(err: unknown): number {
    const code = errorCode(err);
    const message = errorMessage(err);
    if (code === ERR.KUBE_EXPIRED) {
      // The resourceVersion is gone: relist at once, but back off if relisting keeps ending in 410.
      this.log.debug('kubernetes resourceVersion expired; relisting', { error: message });
      this.rv = undefined;
      this.expiredInRow++;
      return this.expiredInRow > 1 ? this.backoff.next() : 0;
    }
    this.lastError = message;
    if (code === ERR.KUBE_FORBIDDEN && this.o.forbidden) this.lastError = `${this.o.forbidden(this.verb)} (the API said: ${message})`;
    if (code === ERR.KUBE_FORBIDDEN || code === ERR.KUBE_NOT_FOUND) {
      if (this.state !== 'disabled')
        this.log.warn('kubernetes source disabled: the API refuses this resource (check RBAC or whether the CRD is installed); retrying once per resync interval', { error: this.lastError, code });
      this.state = 'disabled';
      this.announced = true;
      this.rv = undefined;
      if (this.o.store.size) {
        this.o.store.clear();
        this.o.onChange();
      }
      return this.o.timing.resyncIntervalMs;
    }
    // Garbage or an oversized line: events may have been lost in the stream, so start over from a list.
    if (code === ERR.KUBE_PROTOCOL || code === ERR.KUBE_TOO_LARGE) this.rv = undefined;
    const wait = this.backoff.next();
    if (code === ERR.KUBE_WATCH_SHORT && this.shortInRow < SHORT_WATCH_LIMIT && this.state !== 'failing') {
      this.log.debug('kubernetes watch ended early; backing off', { error: message, code, retryInMs: wait });
      return wait;
    }
    const first = this.state !== 'failing';
    this.state = 'failing';
    // One warn line per episode (failing until recovered), and per kind of failure at most one per window.
    const { log, suppressed } = first ? this.limiter.take(code ?? 'error') : { log: false, suppressed: 0 };
    const msg = first ? 'kubernetes source failing; retrying with backoff' : 'kubernetes source still failing';
    if (log) {
      this.announced = true;
      this.log.warn(msg, { error: message, code, retryInMs: wait, ...(suppressed ? { suppressed } : {}) });
    } else this.log.debug(msg, { error: message, code, retryInMs: wait });
    return wait;
  }
}
