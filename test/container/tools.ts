/** The outside tools the container test needs, checked once (test/support/tools.ts decides skip or fail). */
import { commandWorks, IPROUTE2, ROOT, tool, type ToolStatus } from '../support/tools.js';

const BUILDAH = (): ToolStatus => tool('buildah', () => commandWorks('buildah', ['--version'], 'apt-get install buildah'));
const DEBOOTSTRAP = (): ToolStatus => tool('debootstrap', () => commandWorks('debootstrap', ['--version'], 'apt-get install debootstrap'));
const UNSHARE = (): ToolStatus => tool('unshare', () => commandWorks('unshare', ['--version'], 'apt-get install util-linux'));
const NSENTER = (): ToolStatus => tool('nsenter', () => commandWorks('nsenter', ['--version'], 'apt-get install util-linux'));

/** Root (debootstrap, mounts, namespaces), buildah, debootstrap, ip, unshare and nsenter. */
export function containerTools(): ToolStatus[] {
  return [ROOT(), BUILDAH(), DEBOOTSTRAP(), IPROUTE2(), UNSHARE(), NSENTER()];
}
