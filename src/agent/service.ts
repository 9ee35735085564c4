/**
 * The agent behind its HTTP routes: reads the kernel's files on each request (the counters must be current), one
 * read at a time however many requests come at once, and counts and logs what it could not read.
 */
import type { Logger } from '../lib/logger.js';
import { renderNodeMetrics } from './metrics.js';
import type { NodeReader } from './reader.js';
import type { AgentReadError, NodeReport } from './types.js';

export interface NodeAnswer {
  status: number;
  body: unknown;
}

export class NodeAgentService {
  private inFlight?: Promise<NodeReport>;
  private readErrors = 0;
  /** source + code of the last read's errors: a failure is logged when it starts and when it ends, not at every read. */
  private failing = new Set<string>();

  constructor(private readonly reader: NodeReader, private readonly logger: Logger) {}

  /** Kernel files that failed to read or parse since the start. */
  get readErrorCount(): number {
    return this.readErrors;
  }

  /** A fresh read; requests arriving while one runs share it. */
  read(): Promise<NodeReport> {
    this.inFlight ??= this.reader.read().then((r) => {
      this.account(r.errors);
      return r;
    }).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** GET /v1/node: the report; 503 with the errors when not one file could be read (a wrong --proc-root, say). */
  async node(): Promise<NodeAnswer> {
    const r = await this.read();
    const nothing = Object.keys(r.interfaces).length === 0 && r.reversePathDrops === null && Object.values(r.counters).every((g) => Object.keys(g).length === 0);
    if (nothing && r.errors.length > 0) {
      return { status: 503, body: { error: 'the kernel\'s files could not be read', code: r.errors[0]!.code, node: r.node, readAt: r.readAt, errors: r.errors } };
    }
    return { status: 200, body: r };
  }

  /** GET /metrics. */
  async metrics(): Promise<string> {
    const r = await this.read();
    return renderNodeMetrics(r, this.readErrors);
  }

  private account(errors: AgentReadError[]): void {
    this.readErrors += errors.length;
    const now = new Set<string>();
    for (const e of errors) {
      const key = `${e.source}\u0000${e.code}`;
      now.add(key);
      if (!this.failing.has(key)) this.logger.warn('node agent: cannot read a kernel file (logged again only after it recovers)', { source: e.source, code: e.code, error: e.message });
    }
    for (const key of this.failing) {
      if (!now.has(key)) this.logger.info('node agent: a kernel file reads again', { source: key.split('\u0000')[0] });
    }
    this.failing = now;
  }
}
