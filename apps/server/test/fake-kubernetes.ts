import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * A fake Kubernetes API server: the handful of endpoints the executor calls, with an in-memory store,
 * so the real client library's HTTP requests (paths, query, content types, bodies) are exercised.
 */
export interface Recorded {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  authorization?: string;
  body?: any;
}

export class FakeKubernetes {
  readonly requests: Recorded[] = [];
  readonly jobs = new Map<string, any>();
  readonly secrets = new Map<string, any>();
  readonly pods = new Map<string, any>();
  logs = 'line one\nline two\n';
  failNext: { method: string; pathPart: string; status: number } | undefined;
  /** Foreground deletion: the Job disappears this many reads after DELETE. */
  deleteAfterReads = 2;
  private pendingDelete = new Map<string, number>();
  server: Server = createServer(
    (req, res) =>
      void this.handle(req).then(([status, body]) => {
        res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      }),
  );

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const addr = this.server.address() as { port: number };
    return `http://127.0.0.1:${addr.port}`;
  }

  private async handle(req: IncomingMessage): Promise<[number, unknown]> {
    const url = new URL(req.url!, 'http://x');
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const rec: Recorded = {
      method: req.method!,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: req.headers['content-type'],
      authorization: req.headers.authorization,
      body: raw ? JSON.parse(raw) : undefined,
    };
    this.requests.push(rec);
    const notFound: [number, unknown] = [
      404,
      { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 },
    ];
    if (this.failNext && this.failNext.method === rec.method && rec.path.includes(this.failNext.pathPart)) {
      const status = this.failNext.status;
      this.failNext = undefined;
      return [
        status,
        { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: status, message: 'injected failure' },
      ];
    }
    let m: RegExpMatchArray | null;
    if (/^\/apis\/batch\/v1\/namespaces\/[^/]+\/jobs$/.test(rec.path) && rec.method === 'POST') {
      const job = {
        ...rec.body,
        metadata: { ...rec.body.metadata, uid: randomUUID(), creationTimestamp: new Date().toISOString() },
        status: {},
      };
      this.jobs.set(job.metadata.name, job);
      return [201, job];
    }
    if ((m = rec.path.match(/^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs\/([^/]+)$/))) {
      const job = this.jobs.get(m[2]!);
      if (!job) return notFound;
      if (rec.method === 'GET') {
        const left = this.pendingDelete.get(job.metadata.name);
        if (left !== undefined) {
          if (left <= 0) {
            this.jobs.delete(job.metadata.name);
            for (const [k, s] of this.secrets)
              if (s.metadata.ownerReferences?.some((o: any) => o.uid === job.metadata.uid)) this.secrets.delete(k);
            return notFound;
          }
          this.pendingDelete.set(job.metadata.name, left - 1);
        }
        return [200, job];
      }
      if (rec.method === 'PATCH') {
        if (rec.contentType !== 'application/merge-patch+json')
          return [415, { message: `unsupported ${rec.contentType}` }];
        job.spec = { ...job.spec, ...rec.body.spec };
        return [200, job];
      }
      if (rec.method === 'DELETE') {
        this.pendingDelete.set(job.metadata.name, this.deleteAfterReads);
        return [200, { kind: 'Status', status: 'Success' }];
      }
    }
    if (/^\/api\/v1\/namespaces\/[^/]+\/secrets$/.test(rec.path) && rec.method === 'POST') {
      this.secrets.set(rec.body.metadata.name, rec.body);
      return [201, rec.body];
    }
    if (/^\/api\/v1\/namespaces\/[^/]+\/pods$/.test(rec.path) && rec.method === 'GET') {
      const [, jobNameLabel] = (rec.query.labelSelector ?? '').split('=');
      const items = [...this.pods.values()].filter((p) => p.metadata.labels['job-name'] === jobNameLabel);
      return [200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items }];
    }
    if ((m = rec.path.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/)) && rec.method === 'GET') {
      if (!this.pods.has(m[2]!)) return notFound;
      return [200, this.logs];
    }
    return [404, { message: `fake kubernetes: no route ${rec.method} ${rec.path}` }];
  }

  reset() {
    this.requests.length = 0;
    this.jobs.clear();
    this.secrets.clear();
    this.pods.clear();
    this.pendingDelete.clear();
  }

  addPod(job: string, name: string, terminated?: { exitCode: number; reason: string }) {
    this.pods.set(name, {
      metadata: { name, labels: { 'job-name': job }, creationTimestamp: new Date().toISOString() },
      status: { containerStatuses: [{ name: 'trainer', state: terminated ? { terminated } : { running: {} } }] },
    });
  }
}

/** A KubeConfig that points the real client library at `url` (a FakeKubernetes). */
export function fakeKubeConfig(url: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'hub', token: 'cluster-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'hub' }],
    currentContext: 'fake',
  });
  return kubeConfig;
}
