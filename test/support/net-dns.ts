/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP, port 0): answers A/AAAA from a fixed table and NXDOMAIN for
 * every other name. Pair it with a node:dns Resolver (setServers) so no query ever reaches a real resolver.
 */
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns';
import { isIPv4, isIPv6, type AddressInfo } from 'node:net';

export interface TestDns {
  /** "127.0.0.1:PORT", for Resolver.setServers. */
  server: string;
  /** Every question received, as "name TYPE". */
  readonly queries: string[];
  /** A Resolver that asks only this server, quickly (no real resolver is ever involved). */
  resolver(): Resolver;
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;

/** records: name (lower case, no trailing dot) -> addresses (IPv4 and/or IPv6). */
export async function dnsServer(records: Record<string, string[]>): Promise<TestDns> {
  const sock = createSocket('udp4');
  const queries: string[] = [];
  sock.on('message', (msg, rinfo) => {
    const q = parseQuestion(msg);
    if (!q) return;
    queries.push(`${q.name} ${q.type === TYPE_A ? 'A' : q.type === TYPE_AAAA ? 'AAAA' : q.type}`);
    const known = records[q.name.toLowerCase()];
    const answers = (known ?? []).filter((a) => (q.type === TYPE_A ? isIPv4(a) : q.type === TYPE_AAAA ? isIPv6(a) : false));
    sock.send(answer(msg, q.end, known ? 0 : 3, q.type, answers), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const server = `127.0.0.1:${(sock.address() as AddressInfo).port}`;
  return {
    server,
    queries,
    resolver() {
      const r = new Resolver({ timeout: 500, tries: 1 });
      r.setServers([server]);
      return r;
    },
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}

function parseQuestion(msg: Buffer): { name: string; type: number; end: number } | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let i = 12;
  while (i < msg.length && msg[i] !== 0) {
    const len = msg[i]!;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += 1 + len;
  }
  if (i + 5 > msg.length) return undefined;
  return { name: labels.join('.'), type: msg.readUInt16BE(i + 1), end: i + 5 };
}

function answer(query: Buffer, questionEnd: number, rcode: number, type: number, addrs: string[]): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  const rd = query[2]! & 0x01;
  header[2] = 0x84 | rd; // QR, AA, RD echoed
  header[3] = 0x80 | rcode; // RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addrs.length, 6);
  const rrs = addrs.map((a) => {
    const rdata = type === TYPE_A ? Buffer.from(a.split('.').map(Number)) : ipv6Bytes(a);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
    rr.writeUInt16BE(type, 2);
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([rr, rdata]);
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...rrs]);
}

function ipv6Bytes(a: string): Buffer {
  const [head, tail] = a.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}
