/**
 * vitest `globalSetup`: dashboards (`next start` of the production build) and Chromiums that the browser test files
 * borrow one at a time instead of each file starting its own. Starting them cost every file ~10 s of wall time and
 * several CPU-seconds on a 2-core machine; each file still starts its own hub on its own fresh database.
 *
 *   // vitest.config.ts
 *   test: { globalSetup: ['@dapple/testing/dashboard-pool-global-setup'] }
 *
 * A dashboard reads its API's address (DAPPLE_API_URL) once, when `next start` runs, and each file's hub listens on a
 * port of its own: so every dashboard proxies to a TCP relay here whose target the borrowing file sets to its hub
 * (dashboard-pool.ts). Lending is by lease, not by worker id: a file that is not done (or a worker that died) keeps
 * its lease, and the next file gets another dashboard, started on demand. A dashboard or Chromium that exited is
 * started again on the next lease, so one file that crashes it cannot fail the files after it. Nothing is started
 * until a file asks: a run without browser tests costs nothing.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { chromium, type BrowserServer } from 'playwright-core';
import type { TestProject } from 'vitest/node';
import { CHROMIUM_ARGS } from './browser.ts';
import { findChromium } from './chromium.ts';
import type { DashboardLease } from './dashboard-pool.ts';
import { freePort } from './ports.ts';
import { startWeb, type WebServer } from './web.ts';

/** Lines of `next start` output a slot keeps for the borrower's error messages. */
const KEPT_LOG_LINES = 2_000;

interface Slot {
  id: number;
  leased: boolean;
  relay: Promise<Relay>;
  web?: { server: WebServer; exited: boolean };
  browser?: { server: BrowserServer; exited: boolean };
  log: { lines: string[]; total: number };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const slots: Slot[] = [];
  const control = createHttpServer((req, res) => void handle(req, res));
  const controlPort = await freePort();
  await new Promise<void>((done) => control.listen(controlPort, '127.0.0.1', done));
  project.provide('dappleDashboardPool', `http://127.0.0.1:${controlPort}`);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await readJson(req);
      const slot = (): Slot => {
        const found = slots.find((s) => s.id === body.slot);
        if (!found) throw new Error(`no dashboard slot ${String(body.slot)}`);
        return found;
      };
      let answer: unknown = {};
      if (req.url === '/lease') answer = await lease(slots);
      else if (req.url === '/route') (await slot().relay).route(Number(body.port));
      else if (req.url === '/logs') answer = { text: logSince(slot(), Number(body.from)) };
      else if (req.url === '/release') {
        const s = slot();
        (await s.relay).route(undefined);
        s.leased = false;
      } else throw new Error(`unknown request ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(err instanceof Error ? err.stack : String(err));
    }
  }

  return async () => {
    await new Promise<void>((done) => control.close(() => done()));
    await Promise.all(
      slots.map(async (s) => {
        await s.browser?.server.close().catch(() => undefined);
        await s.web?.server.close();
        await (await s.relay).close();
      }),
    );
  };
}

/** A free slot with its dashboard and Chromium running (started or restarted as needed), marked leased. */
async function lease(slots: Slot[]): Promise<DashboardLease> {
  // Found and marked leased before any await: two leases asked at once never get the same slot.
  let slot = slots.find((s) => !s.leased);
  if (!slot) {
    slot = { id: slots.length + 1, leased: false, relay: startRelay(), log: { lines: [], total: 0 } };
    slots.push(slot);
  }
  slot.leased = true;
  // The borrower's log starts before a restart, so its file says that its dashboard is a new one, and why.
  const logFrom = slot.log.total;
  try {
    const relay = await slot.relay;
    if (slot.web && !(await answers(slot.web))) {
      note(slot, `[dashboard pool] the dashboard had exited or stopped answering: starting it again`);
      await slot.web.server.close();
      slot.web.exited = true;
    }
    if (!slot.web || slot.web.exited) {
      const s = slot;
      const server = await startWeb({
        apiUrl: `http://127.0.0.1:${relay.port}`,
        onLine: (line) => note(s, line),
      });
      const web = { server, exited: false };
      void server.exited.then(() => (web.exited = true));
      s.web = web;
    }
    if (!slot.browser || slot.browser.exited) {
      const server = await chromium.launchServer({
        executablePath: (await findChromium()).executablePath,
        args: CHROMIUM_ARGS,
      });
      const browser = { server, exited: false };
      server.on('close', () => (browser.exited = true));
      slot.browser = browser;
    }
  } catch (err) {
    slot.leased = false;
    throw err;
  }
  return {
    slot: slot.id,
    webUrl: slot.web!.server.url,
    browserWsEndpoint: slot.browser.server.wsEndpoint(),
    logFrom,
    webPid: slot.web!.server.pid,
  };
}

// Its exit event can come after its port already refuses (a SIGKILL closes the sockets first), and a hung one never
// exits: so the next borrower asks it for a static file first.
async function answers(web: { server: WebServer; exited: boolean }): Promise<boolean> {
  if (web.exited) return false;
  try {
    await (await fetch(`${web.server.url}/favicon.ico`, { signal: AbortSignal.timeout(30_000) })).arrayBuffer();
    return !web.exited;
  } catch {
    return false;
  }
}

function note(slot: Slot, line: string): void {
  slot.log.lines.push(line);
  slot.log.total++;
  if (slot.log.lines.length > KEPT_LOG_LINES) slot.log.lines.shift();
}

function logSince(slot: Slot, from: number): string {
  const firstKept = slot.log.total - slot.log.lines.length;
  return slot.log.lines.slice(Math.max(0, from - firstKept)).join('\n');
}

interface Relay {
  port: number;
  /**
   * Sends what the dashboard sends next to 127.0.0.1:`port` (none: its connections are closed), on the connections it
   * already holds too: each one's link to the previous target is ended, and its next request opens one to `port`.
   */
  route(port: number | undefined): void;
  close(): Promise<void>;
}

// Plain TCP, so HTTP keep-alive and the WebSocket upgrades the dashboard proxies pass through unchanged.
//
// A route change must not close the dashboard's own (pooled keep-alive) connections to the relay: `next start` learns
// of a close only when its event loop gets to it, and a request it proxies first goes out on the dead socket and is
// answered 500 (CI failed this way once). So a route change ends only the relay's link to the previous hub; the
// dashboard's connection stays open, and the next bytes it sends (at a request boundary: the previous file is done)
// open a link to the new target.
async function startRelay(): Promise<Relay> {
  let target: number | undefined;
  const open = new Set<RelayedConnection>();
  const server: Server = createTcpServer((incoming) => {
    if (target === undefined) return void incoming.destroy();
    const connection = relayConnection(incoming, () => target);
    open.add(connection);
    incoming.on('close', () => open.delete(connection));
  });
  const port = await freePort();
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  return {
    port,
    route(next) {
      target = next;
      for (const connection of open) {
        if (next === undefined) connection.destroy();
        else connection.detach();
      }
    },
    close: () => {
      for (const connection of open) connection.destroy();
      return new Promise((done) => server.close(() => done()));
    },
  };
}

interface RelayedConnection {
  /** Ends the link to the current target; the next bytes from the dashboard open one to the target then routed. */
  detach(): void;
  destroy(): void;
}

function relayConnection(incoming: Socket, currentTarget: () => number | undefined): RelayedConnection {
  let outgoing: Socket | undefined;

  const link = (port: number): Socket => {
    const socket = connect(port, '127.0.0.1');
    socket.on('data', (chunk: Buffer) => {
      if (!incoming.write(chunk)) socket.pause();
    });
    socket.on('drain', () => incoming.resume());
    // The hub closed its side (it stopped, or its keep-alive timed out): the dashboard's connection closes with it.
    socket.on('end', () => incoming.end());
    socket.on('error', () => incoming.destroy());
    return socket;
  };
  const unlink = (): void => {
    const socket = outgoing;
    outgoing = undefined;
    if (!socket) return;
    socket.removeAllListeners();
    socket.on('error', () => undefined);
    socket.destroy();
    incoming.resume();
  };

  incoming.on('data', (chunk: Buffer) => {
    if (!outgoing) {
      const port = currentTarget();
      if (port === undefined) return void incoming.destroy();
      outgoing = link(port);
    }
    if (!outgoing.write(chunk)) incoming.pause();
  });
  incoming.on('drain', () => outgoing?.resume());
  incoming.on('end', () => (outgoing ? outgoing.end() : incoming.end()));
  incoming.on('error', () => undefined);
  incoming.on('close', unlink);

  return {
    detach: unlink,
    destroy: () => {
      unlink();
      incoming.destroy();
    },
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}
