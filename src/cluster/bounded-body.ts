import type { Dispatcher } from 'undici';
import { VipwatchError } from '../lib/errors.js';
import { KUBE_TOO_LARGE } from './kube-errors.js';

// The default is the config's (kubernetes.maxResponseBytes); re-exported for the client that reads with it.
export { DEFAULT_MAX_RESPONSE_BYTES } from '../config/sections/kubernetes.js';

const NEWLINE = 0x0a;

/**
 * Splits a byte stream into newline-terminated lines, never holding more than `maxLineBytes` of one line: a line
 * that grows past it throws VIPWATCH_KUBE_TOO_LARGE at once, so a peer that never sends a newline costs at most the
 * limit. Splitting on the byte 0x0a is safe for UTF-8 (it never occurs inside a multi-byte character).
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxLineBytes: number, private readonly what: string) {}

  /** The complete lines in `chunk` (with what came before it), decoded and trimmed; empty lines are dropped. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf(NEWLINE, start)) >= 0) {
      const piece = chunk.subarray(start, nl);
      this.grow(piece.length);
      const line = (this.parts.length ? Buffer.concat([...this.parts, piece]) : piece).toString('utf8').trim();
      this.parts = [];
      this.size = 0;
      start = nl + 1;
      if (line) lines.push(line);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.grow(rest.length);
      this.parts.push(rest);
    }
    return lines;
  }

  /** What is left after the stream ended without a final newline. */
  end(): string {
    const rest = Buffer.concat(this.parts).toString('utf8').trim();
    this.parts = [];
    this.size = 0;
    return rest;
  }

  private grow(n: number): void {
    this.size += n;
    if (this.size > this.maxLineBytes) {
      this.parts = [];
      throw new VipwatchError(KUBE_TOO_LARGE, `${this.what}: an event line is longer than kubernetes.maxResponseBytes (${this.maxLineBytes} bytes) and has no newline; stopped reading`);
    }
  }
}

/**
 * Reads a whole response body, at most `max` bytes: a larger Content-Length is refused before reading, and a body
 * that grows past the limit (chunked, or lying about its length) is cut off at once. Throws VIPWATCH_KUBE_TOO_LARGE;
 * the caller destroys the body (which closes the connection) on any error.
 */
export async function readBodyBounded(res: Dispatcher.ResponseData, max: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > max)
    throw new VipwatchError(KUBE_TOO_LARGE, `${what}: the answer is ${declared} bytes, more than kubernetes.maxResponseBytes (${max}); not read`);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > max) {
      parts.length = 0;
      throw new VipwatchError(KUBE_TOO_LARGE, `${what}: the answer is larger than kubernetes.maxResponseBytes (${max} bytes); stopped reading`);
    }
    parts.push(b);
  }
  return Buffer.concat(parts, size);
}
