import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { startWeb, type WebServer } from '@dapple/testing/web';

// The dashboard's same-origin proxy (src/proxy.ts) against a real upstream that echoes what it received:
// HTTP for /graphql, /healthz, /objects/*, and a WebSocket upgrade on /graphql (what graphql-ws subscriptions use).
describe('same-origin proxy to the API', () => {
  let upstream: Server;
  let web: WebServer;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      if (req.url?.startsWith('/objects/big')) return receiveBig(req, res);
      if (req.url?.startsWith('/objects/range')) return serveRange(req, res);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.setHeader('set-cookie', 'dapple_session=from-upstream; HttpOnly; Path=/');
        res.end(
          JSON.stringify({
            method: req.method,
            url: req.url,
            cookie: req.headers.cookie ?? null,
            contentType: req.headers['content-type'] ?? null,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      });
    });
    const wss = new WebSocketServer({ server: upstream, path: '/graphql' });
    wss.on('connection', (socket, req) => {
      socket.send(JSON.stringify({ protocol: socket.protocol, cookie: req.headers.cookie ?? null }));
      // ws hands each frame over as one Buffer (binaryType 'nodebuffer', the default).
      socket.on('message', (data) => socket.send(`echo:${(data as Buffer).toString()}`));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const { port } = upstream.address() as AddressInfo;
    web = await startWeb({ apiUrl: `http://127.0.0.1:${port}` });
  });

  afterAll(async () => {
    await web?.close();
    upstream?.closeAllConnections();
    await new Promise((r) => upstream?.close(r));
  });

  it('forwards POST /graphql with its body, query string, cookie and content-type, and returns Set-Cookie', async () => {
    const res = await fetch(`${web.url}/graphql?op=Me`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: 'dapple_session=abc' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toContain('dapple_session=from-upstream');
    expect(await res.json()).toEqual({
      method: 'POST',
      url: '/graphql?op=Me',
      cookie: 'dapple_session=abc',
      contentType: 'application/json',
      body: '{"query":"{ me { id } }"}',
    });
  });

  it('forwards /healthz and nested /objects/* paths', async () => {
    const health = await (await fetch(`${web.url}/healthz`)).json();
    expect(health).toMatchObject({ method: 'GET', url: '/healthz' });
    const object = await (await fetch(`${web.url}/objects/datasets/d1/thumbs/a%20b.png?sig=x`)).json();
    expect(object).toMatchObject({ method: 'GET', url: '/objects/datasets/d1/thumbs/a%20b.png?sig=x' });
  });

  it('streams a large upload to /objects/* whole (Next would cut a proxied body at 10 MB)', async () => {
    const body = randomBytes(24 * 1024 * 1024);
    const res = await fetch(`${web.url}/objects/big/part-1?sig=abc`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      contentLength: String(body.length),
      url: '/objects/big/part-1?sig=abc',
    });
  });

  it('passes Range requests and partial responses of /objects/* through', async () => {
    const res = await fetch(`${web.url}/objects/range/thumb.png`, { headers: { range: 'bytes=2-5' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 2-5/10');
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer()).toString()).toBe('2345');
  });

  it('does not proxy dashboard pages', async () => {
    const res = await fetch(`${web.url}/sign-in`);
    expect(res.headers.get('content-type')).toContain('text/html');
  });

  it('serves /favicon.ico itself: pages with streamed metadata are asked for it before their <link rel="icon">', async () => {
    const res = await fetch(`${web.url}/favicon.ico`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/x-icon');
    const ico = Buffer.from(await res.arrayBuffer());
    expect(ico.readUInt16LE(2)).toBe(1); // ICO type: icon
    expect(ico.readUInt16LE(4)).toBeGreaterThan(0);
  });

  it('upgrades WebSockets on /graphql to the API, keeping the subprotocol and cookie', async () => {
    const socket = new WebSocket(`${web.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', {
      headers: { cookie: 'dapple_session=ws' },
    });
    const messages: string[] = [];
    await new Promise<void>((done, fail) => {
      socket.on('error', fail);
      socket.on('message', (data) => {
        messages.push((data as Buffer).toString());
        if (messages.length === 1) socket.send('ping');
        if (messages.length === 2) done();
      });
    });
    socket.close();
    expect(JSON.parse(messages[0]!)).toEqual({ protocol: 'graphql-transport-ws', cookie: 'dapple_session=ws' });
    expect(messages[1]).toBe('echo:ping');
  });
});

/** Upstream for the large upload: counts and hashes what arrived. */
function receiveBig(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
  const hash = createHash('sha256');
  let bytes = 0;
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    hash.update(chunk);
  });
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        bytes,
        sha256: hash.digest('hex'),
        contentLength: req.headers['content-length'] ?? null,
        url: req.url,
      }),
    );
  });
}

/** Upstream for Range: a 10-byte object "0123456789" served partially. */
function serveRange(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
  const match = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  const data = Buffer.from('0123456789');
  if (!match) {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': data.length });
    res.end(data);
    return;
  }
  const [start, end] = [Number(match[1]), Number(match[2])];
  res.writeHead(206, {
    'content-type': 'image/png',
    'content-range': `bytes ${start}-${end}/${data.length}`,
    'content-length': end - start + 1,
  });
  res.end(data.subarray(start, end + 1));
}
