import { connect as netConnect, isIP, type LookupFunction, type NetConnectOpts, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { fdShortage } from './fd-shortage.js';
import { classifyDeadline, classifyError, type Classified, type Phase } from './classify.js';
import { capBytes, MAX_DETAIL_BYTES, MAX_IDENTITY_BYTES } from './text.js';
import { SYN_RETRANSMIT_MS, type ProbeResult } from './types.js';

export interface RunTls {
  servername?: string;
  ca?: string;
  rejectUnauthorized: boolean;
}

/** What a protocol adds to the result once the exchange is done. */
export interface Outcome {
  httpStatus?: number;
  backend?: string;
}

/**
 * One attempt: exactly one fresh connection (plus TLS), its phase and timings, settled exactly once.
 * The AbortSignal is the deadline; when it fires the phase decides the reason (no SYN-ACK vs no response).
 */
export class ProbeRun {
  readonly result: Promise<ProbeResult>;
  done = false;
  phase: Phase = 'connect';
  /** Called once the connection (and TLS) is up; the protocol takes over the socket. */
  onReady: (socket: Socket) => void = () => this.succeed();
  /** Extra resources to release when settled (an undici client that still has work in flight). */
  closer?: { close(): void };

  private readonly t0 = performance.now();
  private resolve!: (r: ProbeResult) => void;
  private reject!: (err: unknown) => void;
  private raw?: Socket;
  private socket?: Socket;
  private tlsStart = 0;
  private connectMs?: number;
  private tlsMs?: number;
  private firstByteMs?: number;
  private sourcePort?: number;
  private remoteAddress?: string;
  private certNotAfter?: number;

  private signal: AbortSignal | undefined;

  constructor(signal: AbortSignal) {
    this.signal = signal;
    this.result = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (signal.aborted) this.handleEvent();
    // `this` as the listener (handleEvent) avoids a closure per attempt.
    else signal.addEventListener('abort', this);
  }

  /** Opens the one connection of this attempt. IP literals never touch DNS. */
  open(address: string, port: number, lookup: LookupFunction | undefined, tls?: RunTls): void {
    if (this.done) return;
    const literal = isIP(address) !== 0;
    const opts: NetConnectOpts = { host: address, port, autoSelectFamily: false };
    if (literal) this.remoteAddress = address;
    else {
      this.phase = 'resolve';
      if (lookup) opts.lookup = lookup;
    }
    const s = netConnect(opts);
    this.raw = this.socket = s;
    s.on('error', this.onError);
    if (!literal) s.once('lookup', this.onLookup);
    s.once('connect', () => {
      if (this.done) return;
      this.connectMs = performance.now() - this.t0;
      // remoteAddress is already known (the literal, or the lookup's answer): no getpeername needed.
      this.sourcePort = s.localPort;
      if (tls) this.startTls(s, address, tls);
      else this.ready(s);
    });
  }

  /** The first response byte arrived (protocols call this; idempotent). */
  firstByte(): void {
    if (this.firstByteMs !== undefined) return;
    this.firstByteMs = performance.now() - this.t0;
    this.phase = 'response';
  }

  succeed(outcome?: Outcome): void {
    this.settle(true, undefined, outcome);
  }

  fail(c: Classified, outcome?: Outcome): void {
    this.settle(false, c, outcome);
  }

  failWith(err: unknown): void {
    if (this.done) return;
    const c = classifyError(err, this.phase);
    // A failed lookup may be vipwatch's own starvation in disguise (see fdShortage): never blame DNS for it.
    const short = c.reason === 'dns' ? fdShortage() : undefined;
    if (short) {
      this.fail({ reason: 'probe_error', errorCode: short, detail: `vipwatch's own resources: out of file descriptors (${short}) while resolving; the resolver said: ${c.detail}` });
      return;
    }
    this.fail(c);
  }

  /** The deadline fired. */
  handleEvent(): void {
    if (this.done) return;
    // Read the source port while the socket still exists: it names the flow in a packet capture.
    if (this.sourcePort === undefined && this.raw && !this.raw.destroyed) this.sourcePort = this.raw.localPort;
    this.fail(classifyDeadline(this.signal!.reason, this.phase, performance.now() - this.t0));
  }

  private readonly onError = (err: Error): void => this.failWith(err);

  private readonly onLookup = (err: Error | null, address: string): void => {
    if (err || this.done) return;
    this.phase = 'connect';
    this.remoteAddress = address;
  };

  private startTls(raw: Socket, address: string, opts: RunTls): void {
    this.phase = 'tls';
    this.tlsStart = performance.now();
    // host: the name verified when there is no servername (an IP address checks the IP SAN).
    const t: TLSSocket = tlsConnect({ socket: raw, host: address, servername: opts.servername, ca: opts.ca, rejectUnauthorized: opts.rejectUnauthorized });
    this.socket = t;
    t.on('error', this.onError);
    t.once('secureConnect', () => {
      if (this.done) return;
      this.tlsMs = performance.now() - this.tlsStart;
      const notAfter = Date.parse(t.getPeerCertificate().valid_to);
      if (Number.isFinite(notAfter)) this.certNotAfter = notAfter;
      this.ready(t);
    });
  }

  private ready(s: Socket): void {
    this.phase = 'request';
    try {
      this.onReady(s);
    } catch (err) {
      this.abandon(err);
    }
  }

  /** Our own bug or a request we cannot make, not the network's: reject, so the caller logs it and records nothing. */
  abandon(err: unknown): void {
    if (this.done) return;
    this.release();
    this.reject(err);
  }

  private release(): void {
    this.done = true;
    this.signal!.removeEventListener('abort', this);
    // The socket first, without an error: a destroy(err) makes Node format err.stack, a real cost per attempt.
    this.socket?.destroy();
    this.raw?.destroy();
    this.closer?.close();
    // Node keeps a closed socket's handle alive through young-generation collections, and with it whatever the socket's
    // listeners reach (this run): let go of the signal, the protocol's client and its callbacks, so that is all it holds.
    this.signal = undefined;
    this.closer = undefined;
    this.onReady = noop;
  }

  private settle(ok: boolean, c: Classified | undefined, outcome: Outcome | undefined): void {
    if (this.done) return;
    this.release();
    const connectMs = this.connectMs;
    this.resolve({
      ok,
      reason: c?.reason,
      detail: c?.detail === undefined ? undefined : capBytes(c.detail, MAX_DETAIL_BYTES),
      errorCode: c?.errorCode,
      timings: { connectMs: ms(connectMs), tlsMs: ms(this.tlsMs), firstByteMs: ms(this.firstByteMs), totalMs: ms(performance.now() - this.t0)! },
      synRetransmit: connectMs !== undefined && connectMs >= SYN_RETRANSMIT_MS,
      sourcePort: this.sourcePort,
      remoteAddress: this.remoteAddress,
      httpStatus: outcome?.httpStatus,
      // Capped before it is stored: a peer must not fill the history with a 16 KiB header per attempt.
      backend: outcome?.backend === undefined ? undefined : capBytes(outcome.backend, MAX_IDENTITY_BYTES),
      certNotAfter: this.certNotAfter,
    });
  }
}

function noop(): void {}

/** Microsecond resolution is plenty and keeps JSON short. */
function ms(x: number | undefined): number | undefined {
  return x === undefined ? undefined : Math.round(x * 1000) / 1000;
}
