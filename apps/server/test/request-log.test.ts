import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestLog } from '../src/http/request-log.ts';

const lines: { level: number; msg: string; path?: string; status?: number }[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const app = express();
  app.use(requestLog(logger, { quiet: (req) => req.originalUrl === '/hot' }));
  app.post('/hot', (req, res) => void res.status(req.headers['x-fail'] ? 400 : 200).json({ ok: true }));
  app.post('/cold', (_req, res) => void res.json({ ok: true }));
  server = createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server?.close());

async function logged(path: string, headers: Record<string, string> = {}) {
  lines.length = 0;
  await (await fetch(`${base}${path}`, { method: 'POST', headers })).text();
  // The line is written on 'finish', which may come just after the client has the response.
  for (let i = 0; i < 50 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  return lines.filter((l) => l.msg === 'request');
}

describe('requestLog', () => {
  it('logs a request line at info, and quiet routes at debug unless they fail', async () => {
    expect(await logged('/cold')).toMatchObject([{ level: 30, path: '/cold', status: 200 }]);
    expect(await logged('/hot')).toEqual([]);
    expect(await logged('/hot', { 'x-fail': '1' })).toMatchObject([{ level: 30, path: '/hot', status: 400 }]);
  });
});
