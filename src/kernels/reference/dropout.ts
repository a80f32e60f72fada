// Reference of dropout: the same pcg4d generator as shaders/dropout.wgsl in u32 arithmetic,
// so the test can demand the identical mask.

function pcg4d(input: [number, number, number, number]): number[] {
  const v = input.map((value) => (Math.imul(value, 1664525) + 1013904223) >>> 0);
  const mix = () => {
    v[0] = (v[0]! + Math.imul(v[1]!, v[3]!)) >>> 0;
    v[1] = (v[1]! + Math.imul(v[2]!, v[0]!)) >>> 0;
    v[2] = (v[2]! + Math.imul(v[0]!, v[1]!)) >>> 0;
    v[3] = (v[3]! + Math.imul(v[1]!, v[2]!)) >>> 0;
  };
  mix();
  for (let k = 0; k < 4; k++) v[k] = (v[k]! ^ (v[k]! >>> 16)) >>> 0;
  mix();
  return v;
}

/** Returns the kept-element mask of dropout(p) under `seed` (low and high words). */
export function dropoutMask(count: number, p: number, seed: ArrayLike<number>): Uint8Array {
  const threshold = Math.fround(p);
  return Uint8Array.from({ length: count }, (_, i) => {
    const bits = pcg4d([i, seed[0]!, seed[1]!, 0x9e3779b9])[0]!;
    return (bits >>> 8) / 16777216 >= threshold ? 1 : 0;
  });
}
