/**
 * The container image, built from the repository's Dockerfile and run here as `docker run` would (`npm run
 * test:container`; the default `npm test` leaves it out). The base is a local stand-in for the Dockerfile's default
 * NODE_IMAGE (same Node major, same Debian suite: test/container/base-image.ts), since Docker Hub is out of reach.
 * Cold (no cache) it takes a few minutes: debootstrap, the Node download, the build; warm, about a minute.
 */
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { needTools } from '../support/tools.js';
import { ensureBaseImage, type BaseImage } from './base-image.js';
import { buildah } from './buildah.js';
import { buildImage, dockerfileBase, type BuiltImage } from './image-build.js';
import { imageConfig, type ImageConfig } from './image-config.js';
import { ContainerRun, resolveUser } from './image-run.js';
import { containerTools } from './tools.js';

const tools = needTools('container image test', ...containerTools());

const PORT = 9464;
const CONFIG_IN_IMAGE = '/config/vipwatch.yaml';
const STATE_IN_IMAGE = '/var/lib/vipwatch';

/** What a user mounts: no server.listen port change (the HEALTHCHECK asks 9464), no state section (the image's default). */
const MOUNTED_CONFIG = `server:
  listen: "0.0.0.0:${PORT}"
targets:
  - name: mounted-self
    address: 127.0.0.1
    port: ${PORT}
    protocol: http
    interval: 1s
    timeout: 800ms
    http:
      path: /-/healthy
`;

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
}

/** A host directory for the state volume, owned by the image's user (as `chown 1000:1000` or a named volume gives). */
function stateVolume(uid: number, gid: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'vipwatch-ct-state-'));
  chownSync(dir, uid, gid);
  return dir;
}

describe.skipIf(tools.skip)('the container image (the repository Dockerfile, built with buildah and run as docker would)', () => {
  let base: BaseImage;
  let image: BuiltImage;
  let config: ImageConfig;
  let user: { uid: number; gid: number };
  const temps: string[] = [];

  beforeAll(async () => {
    if (tools.missing) return;
    const from = dockerfileBase();
    const t0 = Date.now();
    base = await ensureBaseImage({ nodeMajor: from.nodeMajor, suite: from.suite, log: (l) => console.log(`[container] ${l}`) });
    const t1 = Date.now();
    image = await buildImage(base.name);
    config = await imageConfig(image.name);
    // The user's ids from the image itself (a throwaway container's /etc/passwd).
    const ctr = await buildah(['from', image.name]);
    try {
      user = resolveUser(await buildah(['mount', ctr]), config.user);
    } finally {
      await buildah(['rm', ctr]).catch(() => {});
    }
    console.log(`[container] base ${base.name} (${base.built ? 'built' : 'cached'}) in ${t1 - t0} ms; image built in ${Date.now() - t1} ms`);
  }, 30 * 60_000);

  beforeEach(() => tools.check());

  afterAll(() => {
    for (const d of temps) rmSync(d, { recursive: true, force: true });
  });

  it('is declared as the README says: non-root USER, the two volumes, port 9464, a HEALTHCHECK without curl, node as the entrypoint', () => {
    expect(user.uid).not.toBe(0);
    expect(config.volumes).toEqual(['/config', STATE_IN_IMAGE]);
    expect(config.exposedPorts).toEqual([`${PORT}/tcp`]);
    expect(config.entrypoint).toEqual(['node', '--max-semi-space-size=8', '/app/bin/vipwatch.js']);
    expect(config.cmd).toEqual(['run', '--config', CONFIG_IN_IMAGE]);
    expect(config.healthcheck).toEqual(['node', '/app/bin/vipwatch.js', 'healthcheck']);
    expect(config.env).toEqual(expect.arrayContaining(['NODE_ENV=production', 'VIPWATCH_DEFAULT_CONFIG=/app/config/container.yaml', `VIPWATCH_STATE_DIR=${STATE_IN_IMAGE}`]));
  });

  it('holds the compiled src, production dependencies only, and no test or bench code', async () => {
    const ctr = await buildah(['from', image.name]);
    try {
      const root = await buildah(['mount', ctr]);
      const app = join(root, 'app');
      expect(readdirSync(app).sort()).toEqual(['bin', 'config', 'dist', 'node_modules', 'package.json']);
      expect(readdirSync(join(app, 'dist'))).toEqual(['src']);
      const own = walk(app, (rel) => !rel.startsWith('node_modules/'));
      expect(own.filter((f) => /(^|\/)(test|bench)\//.test(f) || /\.test\.js$/.test(f))).toEqual([]);
      expect(own).toContain('dist/src/cli/main.js');
      expect(own).toContain('dist/src/cli/healthcheck.js');
      for (const dev of ['typescript', 'vitest', 'playwright-core', 'smtp-server', '@types']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
      for (const dep of ['prom-client', 'undici', 'yaml', 'nodemailer', 'node-cron']) expect(existsSync(join(app, 'node_modules', dep)), dep).toBe(true);
      // The volumes' mount points belong to the user, so a fresh (named or anonymous) volume is writable.
      for (const dir of ['config', 'var/lib/vipwatch']) expect(statSync(join(root, dir)).uid, dir).toBe(user.uid);
    } finally {
      await buildah(['rm', ctr]).catch(() => {});
    }
  });

  describe('docker run IMAGE, nothing mounted at /config', () => {
    let run: ContainerRun;
    let state: string;

    beforeAll(async () => {
      if (tools.missing) return;
      state = stateVolume(user.uid, user.gid);
      temps.push(state);
      run = await ContainerRun.start({ image: image.name, config, binds: { [STATE_IN_IMAGE]: state } });
      await run.waitForLog(/"vipwatch started"/);
    }, 120_000);

    afterAll(async () => {
      await run?.dispose();
    }, 60_000);

    it('says in its first log line what to mount, and runs the built-in default on 0.0.0.0:9464', () => {
      const first = JSON.parse(run.logs[0]!) as { msg: string };
      expect(first.msg).toBe(`no ${CONFIG_IN_IMAGE}: running the built-in default; mount your config at ${CONFIG_IN_IMAGE}`);
      const started = JSON.parse(run.logs.find((l) => l.includes('"vipwatch started"'))!) as { listen: string };
      expect(started.listen).toBe(`0.0.0.0:${PORT}`);
    });

    it('runs as the non-root user, as PID 1 of its own PID namespace', async () => {
      const pid = await run.pid();
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe(String(user.uid));
      expect(Number(/^Uid:\s+(\d+)/m.exec(status)?.[1])).not.toBe(0);
      expect(/^NSpid:\s+\d+\s+(\d+)$/m.exec(status)?.[1]).toBe('1');
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, 3)).toEqual(['node', '--max-semi-space-size=8', '/app/bin/vipwatch.js']);
    });

    it('answers /-/healthy and /metrics from outside, at the container address (docker run -p reaches it)', async () => {
      const healthy = await get(`http://${run.address}:${PORT}/-/healthy`);
      expect(healthy.status).toBe(200);
      const metrics = await get(`http://${run.address}:${PORT}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.body).toMatch(/^vipwatch_/m);
      expect(metrics.body).toContain('target="self-http"');
    });

    it('passes its own HEALTHCHECK (the image config\'s command, run inside the container)', async () => {
      const r = await run.exec(config.healthcheck!);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('answered 200');
    });

    it('keeps its state in the volume', () => {
      expect(readdirSync(state)).toContain('incidents');
      expect(statSync(join(state, 'incidents')).uid).toBe(user.uid);
    });

    it('exits 0 within 10 s of SIGTERM to PID 1 (docker stop)', async () => {
      const { exit, ms } = await run.stop(10_000);
      expect(exit, `no exit within 10 s of SIGTERM:\n${run.logs.slice(-5).join('\n')}`).toBeDefined();
      expect(exit).toEqual({ code: 0, signal: null });
      expect(ms).toBeLessThan(10_000);
      expect(run.logs.at(-1)).toContain('"vipwatch stopped"');
    });
  });

  describe('docker run -v vipwatch.yaml:/config/vipwatch.yaml IMAGE', () => {
    let run: ContainerRun;
    let state: string;

    beforeAll(async () => {
      if (tools.missing) return;
      state = stateVolume(user.uid, user.gid);
      const dir = mkdtempSync(join(tmpdir(), 'vipwatch-ct-config-'));
      temps.push(state, dir);
      writeFileSync(join(dir, 'vipwatch.yaml'), MOUNTED_CONFIG);
      run = await ContainerRun.start({ image: image.name, config, binds: { [CONFIG_IN_IMAGE]: join(dir, 'vipwatch.yaml'), [STATE_IN_IMAGE]: state } });
      await run.waitForLog(/"vipwatch started"/);
    }, 120_000);

    afterAll(async () => {
      await run?.dispose();
    }, 60_000);

    it('runs the mounted config, with no word of the built-in default', async () => {
      expect(run.logs.join('\n')).not.toContain('built-in default');
      const metrics = await get(`http://${run.address}:${PORT}/metrics`);
      expect(metrics.body).toContain('target="mounted-self"');
      expect(metrics.body).not.toContain('target="self-http"');
    });

    it('keeps its state in the volume without a state section (VIPWATCH_STATE_DIR), and passes the HEALTHCHECK', async () => {
      expect(readdirSync(state)).toContain('incidents');
      expect((await run.exec(config.healthcheck!)).code).toBe(0);
    });

    it('exits 0 within 10 s of SIGTERM', async () => {
      const { exit, ms } = await run.stop(10_000);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(ms).toBeLessThan(10_000);
    });
  });

  it('runs the node evidence agent as the DaemonSet does (args node-agent): /v1/node of its own network namespace, non-root, SIGTERM exits 0', async () => {
    const run = await ContainerRun.start({ image: image.name, config, args: ['node-agent', '--listen', '0.0.0.0:9465'] });
    try {
      await run.waitForLog(/"node agent started"/);
      const pid = await run.pid();
      expect(Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1])).toBe(user.uid);
      const node = await get(`http://${run.address}:9465/v1/node`);
      expect(node.status).toBe(200);
      const report = JSON.parse(node.body) as { interfaces: Record<string, { rpFilter: { effective: number } }>; reversePathDrops: number | null; errors: unknown[] };
      expect(Object.keys(report.interfaces)).toContain('eth0');
      expect(typeof report.reversePathDrops).toBe('number');
      expect(report.errors).toEqual([]);
      expect((await get(`http://${run.address}:9465/metrics`)).body).toContain('vipwatch_node_reverse_path_drops_total');
      const { exit } = await run.stop(10_000);
      expect(exit).toEqual({ code: 0, signal: null });
    } finally {
      await run.dispose();
    }
  }, 90_000);

  it('runs the other commands through the same entrypoint: docker run IMAGE check-config --config ...', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-ct-config-'));
    temps.push(dir);
    writeFileSync(join(dir, 'vipwatch.yaml'), MOUNTED_CONFIG);
    const run = await ContainerRun.start({ image: image.name, config, binds: { [CONFIG_IN_IMAGE]: join(dir, 'vipwatch.yaml') }, args: ['check-config', '--config', CONFIG_IN_IMAGE] });
    try {
      const exit = await Promise.race([run.exited, new Promise((r) => setTimeout(r, 30_000))]);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(run.logs).toEqual([`${CONFIG_IN_IMAGE}: ok (1 target)`]);
    } finally {
      await run.dispose();
    }
  }, 60_000);
});

/** Every file under `dir` (relative paths) whose path passes `keep` (directories are entered only when they pass). */
function walk(dir: string, keep: (rel: string) => boolean, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (!keep(e.isDirectory() ? `${r}/` : r)) continue;
    if (e.isDirectory()) out.push(...walk(dir, keep, r));
    else out.push(r);
  }
  return out;
}
