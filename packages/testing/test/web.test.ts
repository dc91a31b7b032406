import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { freePort } from '../src/ports.ts';
import { startWeb } from '../src/web.ts';

describe('startWeb', () => {
  // The CI failure this guards against: the chosen port was taken by another server, `next start`
  // died with EADDRINUSE, and startWeb took the other server's answer for the dashboard's.
  it("fails with next's own error when the port is taken, instead of trusting whoever answers there", async () => {
    const port = await freePort();
    const squatter = createServer((_req, res) => res.end('not the dashboard'));
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      await expect(startWeb({ apiUrl: 'http://127.0.0.1:9', port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 600_000);
});
