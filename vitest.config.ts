import { availableParallelism } from 'node:os';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The soak (test/soak) runs the real binary for 5 minutes and mostly sleeps while the child works. It starts first and
 * holds one worker while the other files run in the other(s), so it costs no 5 minutes of `npm test` wall time.
 */
class SoakFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const isSoak = (f: TestSpecification) => /[\\/]test[\\/]soak[\\/]/.test(f.moduleId);
    return [...sorted.filter(isSoak), ...sorted.filter((f) => !isSoak(f))];
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The container image test (test/container) builds and runs the image for minutes: `npm run test:container` runs it
    // (setting VIPWATCH_TEST_CONTAINER); the default run leaves it out.
    exclude: [...configDefaults.exclude, ...(process.env.VIPWATCH_TEST_CONTAINER ? [] : ['test/container/**'])],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker less than the CPUs: 1 on a 2-core machine, which would run the soak alone for
    // 5 minutes before or after everything else. At least 2: the soak's worker plus one for the rest.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    sequence: { sequencer: SoakFirstSequencer },
  },
});
