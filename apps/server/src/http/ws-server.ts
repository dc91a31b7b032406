import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  execute,
  parse,
  specifiedRules,
  subscribe,
  validate,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { textInputError } from '../graphql/text-input.ts';
import { tokenScopeError } from '../graphql/token-scope.ts';
import { limitRules, nestingError, responseTooLarge, type QueryLimits } from '../graphql/limits.ts';
import type { Logger } from '../logger.ts';
import type { Services } from '../services/index.ts';
import type { Context, StreamCheck } from '../graphql/context.ts';
import { resolveViewer, wsContext } from './request-context.ts';
import { StreamGuards } from './stream-guard.ts';

export interface WsServerOptions {
  httpServer: Server;
  path: string;
  schema: GraphQLSchema;
  services: Services;
  log: Logger;
  limits: QueryLimits;
  /** Origins whose browsers may authenticate a socket with the session cookie (besides the hub's own host). */
  allowedOrigins: string[];
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** Every open stream is re-authorised this often, besides on access changes. Default 60 s. */
  recheckIntervalMs?: number;
}

interface StreamEntry {
  userId: string | null;
  check: StreamCheck | undefined;
  reidentify(): Promise<Context>;
}

interface ConnectionParams {
  /** `Bearer dpl_...`, for clients that cannot set headers on a WebSocket. */
  authorization?: string;
  [key: string]: unknown;
}

/**
 * A browser sends cookies on cross-site WebSocket upgrades (no CORS there), so the cookie only counts
 * when the page's Origin is the hub itself or an allowed origin (the web app behind its proxy).
 */
function cookieAllowed(req: IncomingMessage, allowedOrigins: string[]): boolean {
  const origin = req.headers.origin;
  if (!origin) return true; // not a browser
  try {
    const url = new URL(origin);
    // Behind the web app's same-origin proxy the page's host arrives as X-Forwarded-Host. A browser
    // cannot set that header on a WebSocket itself, so a page on another site cannot fake a match.
    const forwardedHost = req.headers['x-forwarded-host'];
    return (
      url.host === req.headers.host ||
      (typeof forwardedHost === 'string' && url.host === forwardedHost.split(',')[0]?.trim()) ||
      allowedOrigins.includes(url.origin)
    );
  } catch {
    return false;
  }
}

function tokenFrom(params: ConnectionParams | undefined): string | undefined {
  const auth = params?.authorization;
  if (typeof auth !== 'string') return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1] ?? auth;
}

/** graphql-ws (graphql-transport-ws protocol) on the hub's HTTP server, same path as HTTP GraphQL. */
export function startWsServer(opts: WsServerOptions): { close(): Promise<void> } {
  // `noServer` + our own upgrade handler: attached with `server`, ws would re-emit the HTTP server's
  // errors (e.g. EADDRINUSE, which createHub reports itself) as WebSocket server errors.
  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://hub').pathname !== opts.path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  opts.httpServer.on('upgrade', onUpgrade);
  const rules = [...specifiedRules, ...limitRules(opts.limits)];
  const formatErrors = (errors: readonly GraphQLError[]) => errors.map((e) => opts.formatError(e.toJSON(), e));

  const identify = (ctx: { connectionParams?: Readonly<ConnectionParams>; extra: { request: IncomingMessage } }) =>
    resolveViewer(opts.services, ctx.extra.request.headers, {
      allowCookie: cookieAllowed(ctx.extra.request, opts.allowedOrigins),
      token: tokenFrom(ctx.connectionParams),
    });

  const guards = new StreamGuards(opts.log, opts.recheckIntervalMs ?? 60_000);
  const stopListening = opts.services.accessEvents.onChange((change) => guards.recheck(change));
  const streams = new WeakMap<Context, StreamEntry>();

  const disposable = useServer<ConnectionParams>(
    {
      schema: opts.schema,
      isProd: true,
      // Every subscription's stream is guarded: re-authorised on access changes and periodically.
      // A read-only API token's mutations are refused before they run (graphql/token-scope.ts).
      execute: (args) => {
        const scopeError = tokenScopeError(args.document, args.operationName, (args.contextValue as Context).viewer);
        return scopeError ? { errors: [scopeError] } : execute(args);
      },
      subscribe: async (args) => {
        const result = await subscribe(args);
        const entry = streams.get(args.contextValue as Context);
        if (!entry || !(Symbol.asyncIterator in result)) return result;
        return guards.guard(result, entry);
      },
      // Reject bad credentials at connection time (close code 4403) rather than on every operation.
      onConnect: async (ctx) => {
        try {
          await identify(ctx);
          return true;
        } catch {
          return false;
        }
      },
      // Identified per operation, so a revoked token or ended session stops new subscriptions at once.
      context: async (ctx) => {
        const { viewer } = await identify(ctx);
        const req = ctx.extra.request;
        const meta = {
          ip: req.socket.remoteAddress ?? null,
          userAgent: req.headers['user-agent'] ?? null,
          requestId: randomUUID(),
        };
        const context = wsContext(opts.services, opts.log, viewer, meta);
        const entry: StreamEntry = {
          userId: viewer?.user.id ?? null,
          check: undefined,
          reidentify: async () => {
            const now = await identify(ctx);
            // The session ended (signed out, expired): the stream was opened as someone who is no longer here.
            if (viewer && now.viewer?.user.id !== viewer.user.id)
              throw new GraphQLError('Your session has ended; sign in again', {
                extensions: { code: 'UNAUTHENTICATED' },
              });
            return wsContext(opts.services, opts.log, now.viewer, meta);
          },
        };
        context.streamAccess = { recheckWith: (check) => (entry.check = check) };
        streams.set(context, entry);
        return context;
      },
      onSubscribe: (_ctx, _id, payload) => {
        const tooDeep = nestingError(payload.query, opts.limits);
        if (tooDeep) return [tooDeep];
        let document;
        try {
          document = parse(payload.query, { maxTokens: opts.limits.maxTokens });
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError('Could not parse the query')];
        }
        const errors = validate(opts.schema, document, rules);
        if (errors.length > 0) return errors;
        const badText = textInputError(document, payload.variables ?? undefined);
        if (badText) return [badText];
        return {
          schema: opts.schema,
          document,
          operationName: payload.operationName ?? undefined,
          variableValues: payload.variables ?? undefined,
        };
      },
      onError: (_ctx, _id, _payload, errors) => formatErrors(errors),
      onNext: (_ctx, _id, _payload, _args, result) => {
        const out = result.errors ? { ...result, errors: formatErrors(result.errors) } : result;
        // Measured here because graphql-ws serialises the message itself; subscription messages are small.
        const bytes = Buffer.byteLength(JSON.stringify(out));
        if (bytes > opts.limits.maxResponseBytes) {
          opts.log.warn({ bytes, limit: opts.limits.maxResponseBytes }, 'subscription message over the size limit');
          return responseTooLarge(bytes, opts.limits.maxResponseBytes);
        }
        return out === result ? undefined : out;
      },
    },
    wss,
  );

  return {
    close: async () => {
      opts.httpServer.off('upgrade', onUpgrade);
      stopListening();
      guards.close();
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
