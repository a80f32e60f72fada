// Raw buffers for the host. The host allocates every input and output here, calls an
// operation with the pointers, reads the result and frees the buffers. The blocks come from
// the runtime's TLSF heap (heap.alloc), which grows the linear memory when it runs out and
// never lets the garbage collector move or reclaim them.

/** Allocates `bytes` bytes aligned to 16, so v128 loads of f32 data start on a lane boundary. */
export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

/** Frees a block returned by alloc. */
export function free(ptr: usize): void {
  heap.free(ptr);
}
