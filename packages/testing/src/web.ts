import { startWeb as launch, type StartWebOptions, type WebServer } from '@dapple/web-launcher';
import { freePort } from './ports.ts';

export { ensureWebBuild, WEB_APP_DIR, type WebServer } from '@dapple/web-launcher';

/**
 * The dashboard's production build on `port`, or on a free test port (see ports.ts for why not port 0). A build it
 * makes skips the type-check (checks/typescript.test.ts type-checks apps/web in the same `npm test`).
 */
export async function startWeb(options: Omit<StartWebOptions, 'port'> & { port?: number }): Promise<WebServer> {
  return launch({
    ...options,
    build: { typeCheck: false, ...options.build },
    port: options.port ?? (await freePort()),
  });
}
