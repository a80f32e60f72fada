// Types of scripts/setup.mjs, for the tests that import it from TypeScript.
import type { ProbeResult } from './setup-plan.mjs';

export function probeAdapter(timeoutMs?: number): Promise<ProbeResult>;
