// Error types shared by the whole library. The CLI maps UserError to exit status 1 (a mistake
// the user can fix: bad input, bad configuration) and anything else to 2 (an internal failure).

/** A mistake in the user's input, configuration or environment, with what to do about it. */
export class UserError extends Error {
  override name = 'UserError';
}

/** A failure reported by the WebGPU implementation: validation, out of memory, device loss. */
export class GpuError extends Error {
  override name = 'GpuError';
}

/** The request cannot be met within the adapter's limits (buffer size, workgroups, memory). */
export class GpuLimitError extends UserError {
  override name = 'GpuLimitError';
}
