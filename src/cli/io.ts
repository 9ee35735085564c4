/** Where commands write; injected so tests capture output. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  env: process.env,
};

/** Exit codes, documented in README. */
export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 70 } as const;
