import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * A graphql-ws client to a hub's `wsUrl`, authenticated like a browser (session cookie, extra headers such as an
 * Origin) or like a script (API token in the connection parameters). It fails instead of reconnecting, so a refused
 * connection shows up in the test; the caller disposes it.
 */
export function graphqlWsClient(
  url: string,
  auth: { cookie?: string | undefined; token?: string; headers?: Record<string, string> } = {},
): Client {
  const headers = { ...auth.headers, ...(auth.cookie ? { cookie: auth.cookie } : {}) };
  class CookieWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  }
  return createClient({
    url,
    webSocketImpl: CookieWebSocket,
    connectionParams: auth.token ? { authorization: `Bearer ${auth.token}` } : {},
    retryAttempts: 0,
  });
}
