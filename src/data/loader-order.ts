// The order of samples in an epoch and the seeds of their augmentations, shared by the file
// loader and the in-memory loader. Both depend only on the loader's seed, the epoch and the
// sample, so a resumed run gets the same batches as an uninterrupted one.

import { Xoshiro128 } from './transforms/random.js';

export function identityOrder(length: number): number[] {
  return Array.from({ length }, (_, index) => index);
}

/** Returns a permutation of 0..length-1 that depends only on `seed` and `epoch` (Fisher-Yates). */
export function shuffledOrder(length: number, seed: number, epoch: number): number[] {
  const random = new Xoshiro128(mixSeeds(seed, epoch));
  const order = identityOrder(length);
  for (let last = length - 1; last > 0; last--) {
    const other = random.nextU32() % (last + 1);
    [order[last], order[other]] = [order[other]!, order[last]!];
  }
  return order;
}

/** Returns the augmentation seed of one sample in one epoch. */
export function sampleSeed(seed: number, epoch: number, index: number): number {
  return mixSeeds(mixSeeds(seed, epoch), index);
}

/** Combines two integers into one 32-bit seed with MurmurHash3's fmix32 finaliser. */
function mixSeeds(a: number, b: number): number {
  let z = (Math.imul(a >>> 0, 0x9e3779b1) ^ (b >>> 0)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
