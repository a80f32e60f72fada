// PyTorch's default initialisation, seeded and deterministic. Each param and buffer draws from
// its own xoshiro128** stream seeded by (seed, state_dict name), so adding or renaming one layer
// leaves the values of every other layer unchanged. The values follow PyTorch's distributions,
// not its random streams: the same seed does not give PyTorch's numbers.

import { UserError } from '../errors.js';
import type { Graph, Value } from './ir.js';
import { numElements } from './ir.js';
import type { InitSpec } from './init-spec.js';

/** splitmix32 step: spreads one 32-bit word into a well-mixed one. */
function mix32(value: number): number {
  let z = (value + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a hash of the UTF-16 code units of a string, mixed with the seed. */
function hashName(name: string, seed: number): number {
  let hash = 0x811c9dc5 ^ mix32(seed);
  for (let i = 0; i < name.length; i++) {
    hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  }
  return hash >>> 0;
}

/** xoshiro128** generator of 32-bit words (Blackman and Vigna, 2018). */
export class Xoshiro128 {
  private readonly state = new Uint32Array(4);

  constructor(seed: number, stream = '') {
    let word = hashName(stream, seed);
    for (let i = 0; i < 4; i++) {
      word = mix32(word + i);
      this.state[i] = word;
    }
    if (this.state.every((part) => part === 0)) this.state[0] = 1;
  }

  nextUint32(): number {
    const s = this.state;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 24 random bits, so every value is exact in f32. */
  nextFloat(): number {
    return (this.nextUint32() >>> 8) / 16777216;
  }
}

function rotl(value: number, shift: number): number {
  return ((value << shift) | (value >>> (32 - shift))) >>> 0;
}

/** erf with absolute error below 1.5e-7 (Abramowitz and Stegun 7.1.26). */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const poly =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-ax * ax));
}

/** Inverse of erf on (-1, 1), single-precision accurate (Giles, 2010). */
function erfinv(x: number): number {
  let w = -Math.log((1 - x) * (1 + x));
  let p: number;
  if (w < 5) {
    w -= 2.5;
    p = 2.81022636e-8;
    for (const c of [
      3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164,
      0.246640727, 1.50140941,
    ])
      p = c + p * w;
  } else {
    w = Math.sqrt(w) - 3;
    p = -0.000200214257;
    for (const c of [
      0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
      1.00167406, 2.83297682,
    ])
      p = c + p * w;
  }
  return p * x;
}

const normalCdf = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));

function fill(out: Float32Array, draw: () => number): void {
  for (let i = 0; i < out.length; i++) out[i] = draw();
}

/** Box-Muller: each pair of uniforms gives two independent normal values (cos and sin). */
function fillNormal(out: Float32Array, mean: number, std: number, random: Xoshiro128): void {
  for (let i = 0; i < out.length; i += 2) {
    // 1 - u keeps the logarithm's argument in (0, 1].
    const radius = std * Math.sqrt(-2 * Math.log(1 - random.nextFloat()));
    const angle = 2 * Math.PI * random.nextFloat();
    out[i] = mean + radius * Math.cos(angle);
    if (i + 1 < out.length) out[i + 1] = mean + radius * Math.sin(angle);
  }
}

/** Fills `out` following `spec`, drawing from `random`. */
export function sampleInit(spec: InitSpec, out: Float32Array, random: Xoshiro128): void {
  switch (spec.kind) {
    case 'constant':
      out.fill(spec.value);
      return;
    case 'uniform':
      fill(out, () => spec.low + (spec.high - spec.low) * random.nextFloat());
      return;
    case 'kaimingUniform': {
      const bound = Math.sqrt(2 / (1 + spec.a * spec.a)) * Math.sqrt(3 / spec.fanIn);
      fill(out, () => bound * (2 * random.nextFloat() - 1));
      return;
    }
    case 'xavierUniform': {
      const bound = spec.gain * Math.sqrt(6 / (spec.fanIn + spec.fanOut));
      fill(out, () => bound * (2 * random.nextFloat() - 1));
      return;
    }
    case 'normal':
      fillNormal(out, spec.mean, spec.std, random);
      return;
    case 'truncatedNormal': {
      // Inverse-CDF sampling as torch.nn.init.trunc_normal_: no rejection loop, so no hang.
      const low = normalCdf((spec.low - spec.mean) / spec.std);
      const high = normalCdf((spec.high - spec.mean) / spec.std);
      fill(out, () => {
        const u = 2 * (low + (high - low) * random.nextFloat()) - 1;
        const value =
          spec.mean + spec.std * Math.SQRT2 * erfinv(Math.min(Math.max(u, -1 + 1e-7), 1 - 1e-7));
        return Math.min(Math.max(value, spec.low), spec.high);
      });
      return;
    }
  }
}

/** Draws the initial value of one param or buffer; the stream depends on (seed, name) only. */
export function initialiseValue(value: Value, seed: number): Float32Array {
  if (value.init === undefined || value.name === undefined) {
    throw new UserError(`Value ${value.id} (${value.kind}) has no name or init spec to draw from`);
  }
  const out = new Float32Array(numElements(value.shape));
  sampleInit(value.init, out, new Xoshiro128(seed, value.name));
  return out;
}

/**
 * Returns the initial values of every param and buffer, keyed by `state_dict` name. Integer
 * buffers (num_batches_tracked) are returned as f32 too; their values stay exact below 2^24.
 */
export function initialise(graph: Graph, seed: number): Map<string, Float32Array> {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new UserError(`seed must be an integer in [0, 2^32 - 1], got ${seed}`);
  }
  const values = new Map<string, Float32Array>();
  for (const value of graph.stateValues()) {
    values.set(value.name as string, initialiseValue(value, seed));
  }
  return values;
}
