import { lookup as dnsLookup } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Where webhooks may not post unless the hub allows private receivers (DAPPLE_WEBHOOK_ALLOW_PRIVATE=1): loopback,
 * private, link-local (cloud metadata at 169.254.169.254 / fd00:ec2::254), carrier-grade NAT, multicast and
 * reserved ranges, in IPv4 and IPv6 (IPv4-mapped addresses included).
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const)
  blocked.addSubnet(net, prefix, 'ipv6');

export function isPrivateAddress(ip: string): boolean {
  const v = ip.toLowerCase().replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v)?.[1];
  if (mapped) return isPrivateAddress(mapped);
  const family = isIP(v);
  if (family === 4) return blocked.check(v, 'ipv4');
  if (family === 6) return blocked.check(v, 'ipv6');
  return true; // not an address at all: refuse rather than guess
}

/**
 * `true`: every address allowed; `false`: private ones refused; a list of addresses or CIDR ranges: those private
 * ones allowed (e.g. one internal receiver), the rest refused.
 */
export type PrivateTargets = boolean | readonly string[];

function allowList(allow: PrivateTargets): (address: string) => boolean {
  if (typeof allow === 'boolean') return (address) => allow || !isPrivateAddress(address);
  const list = new BlockList();
  for (const entry of allow) {
    const [net = '', bits] = entry.split('/');
    const family = isIP(net) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(net, family);
    else list.addSubnet(net, Number(bits), family);
  }
  return (address) => {
    if (!isPrivateAddress(address)) return true;
    const v = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address)?.[1] ?? address;
    return list.check(v, isIP(v) === 6 ? 'ipv6' : 'ipv4');
  };
}

export class EgressRefused extends Error {
  constructor(host: string, address: string) {
    super(
      `target ${host} resolves to the private address ${address}; this hub refuses private-network webhook targets (DAPPLE_WEBHOOK_ALLOW_PRIVATE=1 allows them)`,
    );
    this.name = 'EgressRefused';
  }
}

/**
 * DNS lookup that refuses private addresses. It runs inside the connection itself, so the address checked is the
 * address connected to (a name that re-resolves to 127.0.0.1 between a check and the request gains nothing).
 */
function guardedLookup(allowed: (address: string) => boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      const list = addresses as { address: string; family: number }[];
      const bad = list.find((a) => !allowed(a.address));
      if (bad) return callback(new EgressRefused(hostname, bad.address), '', 4);
      if (options.all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      const first = list[0];
      if (!first) return callback(new Error(`no address for ${hostname}`), '', 4);
      callback(null, first.address, first.family);
    });
  };
}

export interface EgressResponse {
  status: number;
  /** At most `excerptBytes` of the reply, decoded and sanitised (no NUL or control characters). */
  excerpt: string;
}

export interface EgressOptions {
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowPrivate: PrivateTargets;
  /** Redirects followed (each target checked like the first). Default 3. */
  maxRedirects?: number;
  excerptBytes?: number;
}

/** Keeps printable text only: what a delivery log row may store (Postgres text refuses NUL). */
export function sanitiseExcerpt(bytes: Buffer, max: number): string {
  return (
    bytes
      .subarray(0, max)
      .toString('utf8')
      .replace(/\uFFFD/g, '?')
      // eslint-disable-next-line no-control-regex -- control characters are exactly what this removes
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '?')
  );
}

/** POSTs `body`, following up to `maxRedirects` redirects, each target's resolved address checked. */
export async function postWithEgressPolicy(url: string, opts: EgressOptions): Promise<EgressResponse> {
  const deadline = Date.now() + opts.timeoutMs;
  let target = new URL(url);
  let method = 'POST';
  const allowed = allowList(opts.allowPrivate);
  for (let hop = 0; ; hop++) {
    if (target.protocol !== 'http:' && target.protocol !== 'https:')
      throw new Error(`redirected to a ${target.protocol} URL; only http(s) targets are allowed`);
    const literal = target.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) && !allowed(literal)) throw new EgressRefused(literal, literal);
    const res = await send(target, method, opts, deadline, allowed);
    const location = res.headers.location;
    if (res.statusCode && [301, 302, 303, 307, 308].includes(res.statusCode) && location) {
      res.resume();
      if (hop >= (opts.maxRedirects ?? 3)) throw new Error(`more than ${opts.maxRedirects ?? 3} redirects`);
      target = new URL(location, target);
      if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST'))
        method = 'GET';
      continue;
    }
    return { status: res.statusCode ?? 0, excerpt: await readExcerpt(res, opts.excerptBytes ?? 512) };
  }
}

function send(
  target: URL,
  method: string,
  opts: EgressOptions,
  deadline: number,
  allowed: (address: string) => boolean,
): Promise<IncomingMessage> {
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const body = method === 'POST' ? opts.body : undefined;
  return new Promise((resolve, reject) => {
    const req = request(target, {
      method,
      headers:
        body === undefined
          ? { 'user-agent': opts.headers['user-agent'] ?? '' }
          : { ...opts.headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: guardedLookup(allowed),
      timeout: Math.max(1, deadline - Date.now()),
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { name: 'TimeoutError' })));
    req.on('error', reject);
    req.on('response', resolve);
    req.end(body);
  });
}

/** Reads at most `max` bytes, then drops the connection: a huge or endless reply costs nothing more. */
function readExcerpt(res: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => resolve(sanitiseExcerpt(Buffer.concat(chunks), max));
    res.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= max) {
        res.destroy();
        done();
      }
    });
    res.on('end', done);
    res.on('error', done);
    res.on('close', done);
  });
}
