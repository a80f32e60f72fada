// A worker for pool.test.ts that throws while loading, as a worker with a broken import would.

throw new Error('the worker script failed to load');
