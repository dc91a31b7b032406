'use client';

import { useEffect, useRef, useState } from 'react';
import { RunLogsQuery } from '../../graphql/operations/run-detail';
import { request } from '../../lib/graphql';
import { logLineKind, type LogLineKind } from './log-line-kind';
import styles from './runs.module.css';

const LINE_CLASS: Record<LogLineKind, string | undefined> = {
  out: undefined,
  warning: styles.logWarn,
  error: styles.logErr,
};

type LogLine = { at: string; attempt: number; stream: string; line: string };

const TAIL = 300;
const POLL_MS = 4000;

/** The trainer logs `compute: <backend> [on <GPU adapter>]` as it starts: the newest such line in the tail. */
export function computeFromLogs(lines: { line: string }[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /\bcompute: (.+)$/.exec(lines[i]!.line);
    if (m) return m[1]!;
  }
  return null;
}

/**
 * The last lines of trainer output. Reloaded whenever the run changes (`version` moves with every
 * runUpdated event) and every few seconds while the run is live; sticks to the bottom unless the
 * reader scrolled up.
 */
export function LogsTail({ runId, live, version }: { runId: string; live: boolean; version: string }) {
  const [lines, setLines] = useState<LogLine[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLPreElement>(null);
  const pinned = useRef(true);

  useEffect(() => {
    let current = true;
    const load = () =>
      void request(RunLogsQuery, { id: runId, tail: TAIL }).then((result) => {
        if (!current) return;
        if (result.ok) {
          setLines(result.data.run.logs);
          setError(null);
        } else setError(result.errors[0]?.message ?? 'Could not load the logs');
      });
    load();
    const timer = live ? setInterval(load, POLL_MS) : undefined;
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [runId, live, version]);

  useEffect(() => {
    const el = box.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  const compute = lines ? computeFromLogs(lines) : null;
  return (
    <section className="card" aria-labelledby="logs-heading">
      <div className="card-header">
        <h2 id="logs-heading">Logs</h2>
        {compute ? (
          <span className="muted" title="TF.js backend and GPU adapter of the latest attempt">
            on <span data-testid="run-compute">{compute}</span>
          </span>
        ) : null}
        <span className="muted">last {TAIL} lines</span>
      </div>
      <div className="card-body">
        {error ? (
          <p className="field-error" role="alert">
            {error}
          </p>
        ) : null}
        {lines === null ? (
          <div className="skeleton" style={{ height: 160 }} aria-busy="true" />
        ) : lines.length === 0 ? (
          <p className="muted">No output yet: the trainer writes here once it starts.</p>
        ) : (
          <pre
            ref={box}
            className={styles.logs}
            tabIndex={0}
            aria-label="Trainer output"
            data-testid="run-logs"
            onScroll={(e) => {
              const el = e.currentTarget;
              pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
            }}
          >
            {lines.map((l, i) => (
              <span
                key={i}
                className={LINE_CLASS[logLineKind(l.stream, l.line)]}
                data-kind={logLineKind(l.stream, l.line)}
              >
                {l.line}
                {'\n'}
              </span>
            ))}
          </pre>
        )}
      </div>
    </section>
  );
}
