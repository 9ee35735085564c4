/** The container test's own pure parts: the apt mirror, the Dockerfile's base, the image config. */
import { describe, expect, it } from 'vitest';
import { mirrorIn } from './apt-mirror.js';
import { dockerfileBase, parseDockerfileBase } from './image-build.js';
import { imageConfigOf } from './image-config.js';

describe('the container test helpers', () => {
  it('finds the mirror serving the suite itself in deb822 and one-line sources', () => {
    const deb822 = `Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb deb-src
# a comment
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main
`;
    expect(mirrorIn([{ name: 'debian.sources', text: deb822 }], 'bookworm')).toBe('http://mirror.example/debian');
    const list = '# deb http://old.example/debian bookworm main\ndeb [arch=amd64] http://list.example/debian bookworm main\n';
    expect(mirrorIn([{ name: 'sources.list', text: list }], 'bookworm')).toBe('http://list.example/debian');
    expect(mirrorIn([{ name: 'x.sources', text: 'Enabled: no\nTypes: deb\nURIs: http://off.example\nSuites: bookworm\n' }], 'bookworm')).toBeUndefined();
    expect(mirrorIn([{ name: 'sources.list', text: list }], 'trixie')).toBeUndefined();
  });

  it("reads the Dockerfile's NODE_IMAGE default: the repository's is a Node 24 (LTS) Debian image", () => {
    expect(parseDockerfileBase('ARG NODE_IMAGE=node:26-trixie-slim\nFROM ${NODE_IMAGE}\n')).toEqual({ image: 'node:26-trixie-slim', nodeMajor: 26, suite: 'trixie' });
    expect(() => parseDockerfileBase('FROM node:24\n')).toThrow(/ARG NODE_IMAGE/);
    expect(dockerfileBase()).toEqual({ image: 'node:24-bookworm-slim', nodeMajor: 24, suite: 'bookworm' });
  });

  it('reads the HEALTHCHECK in both forms, and docker defaults for what is unset', () => {
    expect(imageConfigOf({ Healthcheck: { Test: ['CMD', 'node', 'x.js'] } }).healthcheck).toEqual(['node', 'x.js']);
    expect(imageConfigOf({ Healthcheck: { Test: ['CMD-SHELL', 'curl -f x'] } }).healthcheck).toEqual(['/bin/sh', '-c', 'curl -f x']);
    expect(imageConfigOf({ Healthcheck: { Test: ['NONE'] } }).healthcheck).toBeUndefined();
    expect(imageConfigOf({})).toMatchObject({ user: '', workingDir: '/', env: [], entrypoint: [], cmd: [], volumes: [] });
  });
});
