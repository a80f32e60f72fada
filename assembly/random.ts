// Seeded augmentations that draw one random number per voxel, and the PRNG behind them.
//
// The generator is xoshiro128** (Blackman and Vigna, 2018), whose four 32-bit state words are
// the first four outputs of SplitMix32 started at the seed: a Weyl sequence with step
// 0x9e3779b9 finalised by MurmurHash3's fmix32. src/data/transforms/random.ts implements the
// same generator, so a seed gives the same stream on both sides.

let s0: u32 = 0, s1: u32 = 0, s2: u32 = 0, s3: u32 = 0;
let weyl: u32 = 0;

function splitMix32(): u32 {
  weyl += 0x9e3779b9;
  let z = weyl;
  z = (z ^ (z >>> 16)) * 0x85ebca6b;
  z = (z ^ (z >>> 13)) * 0xc2b2ae35;
  return z ^ (z >>> 16);
}

function seedGenerator(seed: u32): void {
  weyl = seed;
  s0 = splitMix32();
  s1 = splitMix32();
  s2 = splitMix32();
  s3 = splitMix32();
}

@inline
function nextU32(): u32 {
  const result = rotl<u32>(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl<u32>(s3, 11);
  return result;
}

const TWO_POW_MINUS_24: f64 = 1.0 / 16777216.0;

/** dst = src + std * N(0, 1), with normals drawn in pairs by the Box-Muller transform. */
export function addGaussianNoise(src: usize, dst: usize, n: i32, std: f64, seed: u32): void {
  seedGenerator(seed);
  for (let i = 0; i < n; i += 2) {
    // u1 lies in (0, 1] so that its logarithm is finite; u2 lies in [0, 1).
    const u1 = <f64>((nextU32() >>> 8) + 1) * TWO_POW_MINUS_24;
    const u2 = <f64>(nextU32() >>> 8) * TWO_POW_MINUS_24;
    const radius = std * Math.sqrt(-2.0 * Math.log(u1));
    const angle = 2.0 * Math.PI * u2;
    const offset = <usize>i << 2;
    store<f32>(dst + offset, <f32>(<f64>load<f32>(src + offset) + radius * Math.cos(angle)));
    if (i + 1 < n) {
      const value = <f64>load<f32>(src + offset + 4) + radius * Math.sin(angle);
      store<f32>(dst + offset + 4, <f32>value);
    }
  }
}

/**
 * dst = src * exp(P(x, y, z)), a smooth multiplicative bias field. P is the polynomial of
 * degree `order` with `coefficients` (f64) in the order i outer, j, k inner over
 * i + j + k <= order, for the term x^i y^j z^k; x, y and z run over [-1, 1] across the volume.
 */
export function multiplyBiasField(
  src: usize,
  dst: usize,
  nx: i32,
  ny: i32,
  nz: i32,
  order: i32,
  coefficients: usize,
): void {
  const rowTerms = heap.alloc(<usize>(order + 1) << 3);
  let offset: usize = 0;
  for (let k = 0; k < nz; k++) {
    const z = normalisedCoordinate(k, nz);
    for (let j = 0; j < ny; j++) {
      const y = normalisedCoordinate(j, ny);
      collectRowTerms(order, coefficients, y, z, rowTerms);
      for (let i = 0; i < nx; i++) {
        const x = normalisedCoordinate(i, nx);
        let logField: f64 = 0;
        for (let power = order; power >= 0; power--) {
          logField = logField * x + load<f64>(rowTerms + (<usize>power << 3));
        }
        store<f32>(dst + offset, <f32>(<f64>load<f32>(src + offset) * Math.exp(logField)));
        offset += 4;
      }
    }
  }
  heap.free(rowTerms);
}

/** Sums, for each power i of x, the terms c_ijk y^j z^k of one row into `rowTerms`. */
function collectRowTerms(order: i32, coefficients: usize, y: f64, z: f64, rowTerms: usize): void {
  let index: usize = 0;
  for (let i = 0; i <= order; i++) {
    let term: f64 = 0;
    for (let j = 0; j <= order - i; j++) {
      for (let k = 0; k <= order - i - j; k++) {
        term += load<f64>(coefficients + (index << 3)) * Math.pow(y, j) * Math.pow(z, k);
        index++;
      }
    }
    store<f64>(rowTerms + (<usize>i << 3), term);
  }
}

@inline
function normalisedCoordinate(index: i32, n: i32): f64 {
  return n > 1 ? (2.0 * <f64>index) / <f64>(n - 1) - 1.0 : 0.0;
}
