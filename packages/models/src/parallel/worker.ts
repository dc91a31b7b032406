/**
 * A data-parallel replica's thread (started by spawn.ts): builds its Replica from workerData, says `ready`,
 * then answers the coordinator's requests one at a time, in order. No top-level await: the thread loads this
 * file through tsx's CommonJS hook.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { silenceCpuBanner } from '../backend.ts';
import type { FromReplica, ReplicaSetup, ToReplica } from './protocol.ts';
import { Replica } from './replica.ts';
import { threadId } from './thread-cpu.ts';

const port = parentPort!;
const send = (msg: FromReplica) => port.postMessage(msg);
const message = (err: unknown) => (err instanceof Error ? (err.stack ?? err.message) : String(err));

silenceCpuBanner();
const replica = Replica.create(workerData as ReplicaSetup);
let queue: Promise<unknown> = replica.then(
  (r) => send({ type: 'ready', backend: r.backend, bucketSizes: r.bucketSizes, threadId: threadId() }),
  (err) => send({ type: 'error', id: null, message: `the replica could not start: ${message(err)}` }),
);

port.on('message', (msg: ToReplica) => {
  queue = queue.then(async () => {
    try {
      send(await (await replica).handle(msg));
    } catch (err) {
      send({ type: 'error', id: msg.id, message: message(err) });
    }
  });
});
