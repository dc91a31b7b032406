import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

// Why not `listen(0)`: the OS hands those ports out of the ephemeral range, the same range every
// outgoing connection (a pg pool, a fetch) takes its local port from. A port picked there and
// released is up for grabs before the caller binds it, and with ~8 test workers on two cores it
// happened: a hub took the port chosen for a dashboard, `next start` failed with EADDRINUSE, and the
// browser talked to the hub. Ports below the ephemeral range are only ever taken by explicit binds.
const LOWEST = 20_000;
const handedOut = new Set<number>();

/** A port that was free a moment ago, outside the OS's ephemeral range; the caller binds it right away. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const highest = ephemeralRangeStart() - 1;
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (highest - LOWEST + 1));
    if (handedOut.has(port)) continue;
    if (await canBind(port, host)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`No free port found between ${LOWEST} and ${highest} on ${host}`);
}

function ephemeralRangeStart(): number {
  try {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    // A range that leaves no room below it: fall back to the IANA default's start.
    return Number.isInteger(start) && start > LOWEST + 1_000 ? start : 49_152;
  } catch {
    return 49_152; // not Linux: IANA's dynamic range starts here (macOS uses it too)
  }
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}
