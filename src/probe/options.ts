import type { LookupFunction } from 'node:net';

export interface ProberOptions {
  /** DNS resolution for hostnames (net's lookup signature); IP literals never use it. Default: the system resolver. */
  lookup?: LookupFunction;
}
