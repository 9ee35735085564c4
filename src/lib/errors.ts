import { ERR, type ErrorCode } from './error-codes.js';

/** Errors with stable codes (the ERR registry): callers branch on `code`, never on message text. */
export class VipwatchError extends Error {
  constructor(readonly code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VipwatchError';
  }
}

export class ConfigError extends VipwatchError {
  constructor(readonly problems: string[]) {
    super(ERR.CONFIG_INVALID, `invalid configuration:\n${problems.join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The `code` of anything thrown: a vipwatch code, or one from Node, undici or the OS (compared as a plain string). */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
