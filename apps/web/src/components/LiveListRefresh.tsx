'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useRef } from 'react';
import { TeamActivitySubscription } from '../graphql/operations/runs-live';
import { useSubscription } from '../lib/subscriptions';
import { LiveStatus } from './LiveStatus';

/**
 * At most one server re-render per this long while events stream in: a training run reports progress
 * every second or so, and each re-render queries the API again.
 */
const REFRESH_AT_MOST_EVERY_MS = 2000;
/** Only while the socket is down: the list still catches up, slowly. */
const FALLBACK_POLL_MS = 30_000;

/**
 * Keeps a server-rendered team list (runs or datasets) current: re-renders it from the server when the
 * teamActivity subscription says something of that kind changed, and once when the socket comes back
 * (events while it was down are lost). Polls slowly only while the socket is not live.
 */
export function LiveListRefresh({ teamId, kind }: { teamId: string; kind: 'RUN' | 'DATASET' }) {
  const router = useRouter();
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const lastRefresh = useRef(0);

  const refreshSoon = () => {
    if (timer.current) return;
    const wait = Math.max(0, lastRefresh.current + REFRESH_AT_MOST_EVERY_MS - Date.now());
    timer.current = setTimeout(() => {
      timer.current = undefined;
      lastRefresh.current = Date.now();
      router.refresh();
    }, wait);
  };

  const status = useSubscription(TeamActivitySubscription, { teamId, kinds: [kind] }, refreshSoon);

  const wasLive = useRef(status === 'live');
  useEffect(() => {
    if (status === 'live') {
      if (!wasLive.current) refreshSoon();
      wasLive.current = true;
      return;
    }
    wasLive.current = false;
    const poll = setInterval(() => router.refresh(), FALLBACK_POLL_MS);
    return () => clearInterval(poll);
    // refreshSoon only touches refs and the router.
  }, [status, router]);

  useEffect(() => () => clearTimeout(timer.current), []);

  return <LiveStatus status={status} testId="list-live" />;
}
