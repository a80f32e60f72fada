// The seeded PRNG of the augmentations: xoshiro128** (Blackman and Vigna, 2018) with its four
// 32-bit state words taken from SplitMix32 started at the seed (a Weyl sequence with step
// 0x9e3779b9 finalised by MurmurHash3's fmix32). assembly/random.ts implements the same
// generator, so a seed gives the same stream in TypeScript and in Wasm.

const TWO_POW_MINUS_24 = 1 / 16777216;

export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** Seeds the generator with the low 32 bits of `seed` (an integer). */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) {
      throw new RangeError(`Seed ${seed} is invalid: expected an integer.`);
    }
    let weyl = seed >>> 0;
    const splitMix32 = (): number => {
      weyl = (weyl + 0x9e3779b9) >>> 0;
      let z = weyl;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = splitMix32();
    this.s1 = splitMix32();
    this.s2 = splitMix32();
    this.s3 = splitMix32();
  }

  /** Returns the next output, an unsigned 32-bit integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Returns a uniform number in [0, 1) with 24 random bits, as the Wasm side draws them. */
  nextFloat(): number {
    return (this.nextU32() >>> 8) * TWO_POW_MINUS_24;
  }

  /** Returns a uniform number in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.nextFloat();
  }

  /** Returns a pair of independent N(0, 1) samples by the Box-Muller transform. */
  normalPair(): [number, number] {
    // u1 lies in (0, 1] so that its logarithm is finite.
    const u1 = ((this.nextU32() >>> 8) + 1) * TWO_POW_MINUS_24;
    const u2 = (this.nextU32() >>> 8) * TWO_POW_MINUS_24;
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    return [radius * Math.cos(angle), radius * Math.sin(angle)];
  }
}

function rotl(value: number, shift: number): number {
  return ((value << shift) | (value >>> (32 - shift))) >>> 0;
}
