import { startWeb as launch, type StartWebOptions, type WebServer } from '@dapple/web-launcher';
import { freePort } from './ports.ts';

export { ensureWebBuild, WEB_APP_DIR, type WebServer } from '@dapple/web-launcher';

/** The dashboard's production build on `port`, or on a free test port (see ports.ts for why not port 0). */
export async function startWeb(options: Omit<StartWebOptions, 'port'> & { port?: number }): Promise<WebServer> {
  return launch({ ...options, port: options.port ?? (await freePort()) });
}
