import { closeSync, openSync } from 'node:fs';
import { errorCode } from '../lib/errors.js';

/**
 * Whether this process is out of file descriptors right now: opens /dev/null and closes it again. Asked only after a
 * name lookup failed, because glibc's getaddrinfo does not say EMFILE when it cannot open /etc/hosts or a socket: it
 * answers ENOTFOUND, EAI_AGAIN or even EBUSY, depending on the NSS modules of the machine. Returns the errno
 * (EMFILE, ENFILE) or undefined.
 */
export function fdShortage(): string | undefined {
  try {
    closeSync(openSync('/dev/null', 'r'));
    return undefined;
  } catch (err) {
    const code = errorCode(err);
    return code === 'EMFILE' || code === 'ENFILE' ? code : undefined;
  }
}
