'use client';

import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { useEffect, useRef, useState } from 'react';
import type { Operation } from './graphql';

let client: Client | undefined;
let connected = false;

/**
 * One graphql-ws connection per tab, opened on the first subscription. It goes to this origin's
 * /graphql: the dashboard's proxy forwards the WebSocket upgrade to the API, and the browser sends the
 * session cookie with it (the API accepts the cookie for origins it is configured to allow).
 */
function subscriptionClient(): Client {
  client ??= createClient({
    url: () => `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/graphql`,
    lazy: true,
    // A ping every 10 s keeps the socket busy, so no idle timeout on the way (the dashboard's proxy,
    // a load balancer) closes a quiet subscription.
    keepAlive: 10_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    // Exponential back-off up to 30 s, with jitter so many tabs do not reconnect in step.
    retryWait: (retries) =>
      new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * 2 ** retries) * (0.5 + Math.random() / 2))),
    shouldRetry: () => true,
    on: {
      connected: () => {
        connected = true;
      },
      closed: () => {
        connected = false;
      },
    },
  });
  return client;
}

export type SubscriptionStatus = 'connecting' | 'live' | 'error';

/**
 * Subscribes while the component is mounted and calls `onData` for every event. The status says whether
 * updates are arriving (shown to people as "live"), so a broken connection is visible, not silent.
 */
export function useSubscription<TData, TVariables>(
  document: Operation<TData, TVariables>,
  variables: TVariables,
  onData: (data: TData) => void,
): SubscriptionStatus {
  const [status, setStatus] = useState<SubscriptionStatus>(() => (connected ? 'live' : 'connecting'));
  const handler = useRef(onData);
  handler.current = onData;
  const key = JSON.stringify(variables);

  useEffect(() => {
    const ws = subscriptionClient();
    const offConnected = ws.on('connected', () => setStatus('live'));
    const offClosed = ws.on('closed', () => setStatus('connecting'));
    const unsubscribe = ws.subscribe<TData>(
      { query: print(document), variables: JSON.parse(key) as Record<string, unknown> },
      {
        next: (result) => {
          setStatus('live');
          if (result.data) handler.current(result.data);
        },
        error: () => setStatus('error'),
        complete: () => undefined,
      },
    );
    return () => {
      unsubscribe();
      offConnected();
      offClosed();
    };
  }, [document, key]);

  return status;
}

/**
 * useSubscription for something that ends (a sample job, an evaluation): while the subscription cannot connect and
 * `following` holds, `poll` asks for it every 2 s instead, so a proxy that drops WebSockets does not freeze a
 * progress bar.
 */
export function useSubscriptionOrPoll<TData, TVariables>(
  document: Operation<TData, TVariables>,
  variables: TVariables,
  onData: (data: TData) => void,
  poll: () => Promise<void>,
  following: boolean,
): SubscriptionStatus {
  const live = useSubscription(document, variables, onData);
  const latestPoll = useRef(poll);
  latestPoll.current = poll;
  useEffect(() => {
    if (live !== 'error' || !following) return;
    const timer = setInterval(() => void latestPoll.current(), 2000);
    return () => clearInterval(timer);
  }, [live, following]);
  return live;
}
