// A worker for pool.test.ts that reports ready like node-worker.ts, then exits with code 3 on
// its first task, as a worker killed mid-task would. Imported outside a worker, it does nothing.

import { parentPort } from 'node:worker_threads';

parentPort?.on('message', (message: { type: string }) => {
  if (message.type === 'init') parentPort?.postMessage({ type: 'ready' });
  else process.exit(3);
});
