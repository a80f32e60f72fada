// A worker for pool.test.ts that throws while loading, as a worker with a broken import would.
// Imported outside a worker, it does nothing.

import { isMainThread } from 'node:worker_threads';

if (!isMainThread) throw new Error('the worker script failed to load');
