// A digest of float32 data, computed the same way in Node and in the browser test page.

/** Returns the FNV-1a hash of the data's 32-bit words, as a hex string. */
export function digestOf(data: Float32Array): string {
  const words = new Uint32Array(data.buffer, data.byteOffset, data.length);
  let hash = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) hash = Math.imul(hash ^ words[i]!, 16777619) >>> 0;
  return hash.toString(16).padStart(8, '0');
}
