// 3D Shepp-Logan phantoms in three subtypes, after ClinicaDL's 2D `generate shepplogan`. A
// phantom is ellipsoids painted in order on a cube of `size` voxels (1 mm each, centred on the
// world origin): a skull, the brain, a central region, one superior region, three inferior
// regions and two ventricles. The skull is the outer ellipsoid of the 3D Shepp-Logan phantom
// (semi-axes 0.69, 0.92, 0.81), and the brain inside it is thinner by a random shell. The
// regions' positions, sizes and angles and their grey level vary per subject.
//
// Subtypes change the size of the two kinds of region: 0 has both large, 1 has small inferior
// regions and 2 a small superior region. Every draw is made whatever the subtype, so two
// phantoms of one seed and different subtypes differ only in the regions that subtype shrinks.

import { UserError } from '../../errors.js';
import { gaussianSmooth } from '../transforms/smooth.js';
import { Xoshiro128 } from '../transforms/random.js';
import { affineFromRows, Volume } from '../volume.js';
import type { ImageBackend } from '../wasm/backend.js';
import type { Diagnosis } from './subjects.js';

/** Probabilities of subtypes 0, 1 and 2. */
export type SubtypeDistribution = readonly [number, number, number];

export interface SheppLoganOptions {
  /** Voxels along each axis of the cube. */
  size: number;
  /** Subtype probabilities of CN subjects; ClinicaDL: 1, 0, 0. */
  cnSubtypes: SubtypeDistribution;
  /** Subtype probabilities of AD subjects; ClinicaDL: 0.05, 0.85, 0.10. */
  adSubtypes: SubtypeDistribution;
  /** Smooth each phantom with a Gaussian of sigma drawn in [0, size / 100] voxels. */
  smoothing: boolean;
}

export const SHEPPLOGAN_DEFAULTS: SheppLoganOptions = {
  size: 64,
  cnSubtypes: [1, 0, 0],
  adSubtypes: [0.05, 0.85, 0.1],
  smoothing: false,
};

/** The smallest and largest cube sizes: below 16 voxels the small regions vanish. */
export const SIZE_RANGE: readonly [number, number] = [16, 512];

export type RegionKind = 'skull' | 'brain' | 'central' | 'superior' | 'inferior' | 'ventricle';

/** An ellipsoid in normalised coordinates: the cube spans [-1, 1] on each axis. */
export interface Ellipsoid {
  kind: RegionKind;
  centre: [number, number, number];
  semiAxes: [number, number, number];
  /** Rotation about the z (inferior-superior) axis, in radians. */
  angle: number;
  /** Grey level painted inside, over what earlier ellipsoids painted. */
  value: number;
}

/** Checks the options, naming the first invalid one. */
export function checkSheppLoganOptions(options: SheppLoganOptions): void {
  const { size } = options;
  if (!Number.isInteger(size) || size < SIZE_RANGE[0] || size > SIZE_RANGE[1]) {
    throw new UserError(
      `Phantom size ${size} is invalid: expected an integer from ${SIZE_RANGE[0]} to ` +
        `${SIZE_RANGE[1]} voxels.`,
    );
  }
  checkDistribution(options.cnSubtypes, 'CN subtype distribution');
  checkDistribution(options.adSubtypes, 'AD subtype distribution');
}

function checkDistribution(distribution: SubtypeDistribution, what: string): void {
  const valid = distribution.length === 3 && distribution.every((p) => p >= 0 && p <= 1);
  const sum = distribution.reduce((total, p) => total + p, 0);
  if (valid && Math.abs(sum - 1) <= 1e-6) return;
  throw new UserError(
    `The ${what} [${distribution.join(', ')}] is invalid: expected three probabilities ` +
      'in [0, 1] that sum to 1.',
  );
}

/** Draws a subtype for each subject from its class's distribution, in a stream of `seed`. */
export function drawSubtypes(
  diagnoses: readonly Diagnosis[],
  options: SheppLoganOptions,
  seed: number,
): number[] {
  const random = new Xoshiro128(seed ^ 0x68e31da4);
  return diagnoses.map((diagnosis) => {
    const distribution = diagnosis === 'AD' ? options.adSubtypes : options.cnSubtypes;
    const u = random.nextFloat();
    let cumulative = 0;
    for (let subtype = 0; subtype < 2; subtype++) {
      cumulative += distribution[subtype]!;
      if (u < cumulative) return subtype;
    }
    return 2;
  });
}

/** Returns the ellipsoids of one phantom, drawn from `seed` (see the file header). */
export function phantomEllipsoids(subtype: number, seed: number): Ellipsoid[] {
  if (subtype !== 0 && subtype !== 1 && subtype !== 2) {
    throw new UserError(`Shepp-Logan subtype ${subtype} is invalid: expected 0, 1 or 2.`);
  }
  const random = new Xoshiro128(seed);
  const jitter = (range: number) => random.uniform(-range, range);
  const large = () => 1 + 0.2 * random.nextFloat();
  const small = () => 0.8 + 0.1 * random.nextFloat();
  const sizes = (isLarge: boolean): [number, number, number] => {
    const draw = isLarge ? large : small;
    return [draw(), draw(), draw()];
  };
  const scaled = (axes: readonly number[], scale: readonly number[]) =>
    axes.map((axis, i) => axis * scale[i]!) as [number, number, number];
  const near = (x: number, y: number, z: number): [number, number, number] => [
    x + jitter(0.03),
    y + jitter(0.03),
    z + jitter(0.03),
  ];

  const shell = random.uniform(0.03, 0.07);
  const grey = random.uniform(0.4, 0.6);
  const regions: Ellipsoid[] = [
    { kind: 'skull', centre: [0, 0, 0], semiAxes: [0.69, 0.92, 0.81], angle: 0, value: 1 },
    {
      kind: 'brain',
      centre: [0, -0.0184, 0],
      semiAxes: [0.69 - shell, 0.92 - shell, 0.81 - shell],
      angle: 0,
      value: 0.2,
    },
  ];
  const ellipsoid = (kind: RegionKind, centre: Ellipsoid['centre'], axes: number[], big: boolean) =>
    regions.push({
      kind,
      centre,
      semiAxes: scaled(axes, sizes(big)),
      angle: jitter(Math.PI),
      value: grey,
    });
  ellipsoid('central', near(0, 0, 0), [0.12, 0.12, 0.12], true);
  ellipsoid('superior', near(0, 0.1, 0.45), [0.22, 0.3, 0.14], subtype !== 2);
  for (const [x, z] of [
    [-0.22, -0.45],
    [0, -0.5],
    [0.22, -0.45],
  ] as const) {
    ellipsoid('inferior', near(x, -0.05, z), [0.1, 0.1, 0.1], subtype !== 1);
  }
  for (const side of [-1, 1]) {
    const scale = random.uniform(0.8, 1.2);
    regions.push({
      kind: 'ventricle',
      centre: near(0.22 * side, 0, 0),
      semiAxes: [0.08 * scale, 0.3 * scale, 0.12 * scale],
      angle: side * (Math.PI / 10) + jitter(Math.PI / 16),
      value: 0,
    });
  }
  return regions;
}

/** Paints the ellipsoids in order on a cube of `size` voxels, x fastest. */
export function rasterise(ellipsoids: readonly Ellipsoid[], size: number): Float32Array {
  const data = new Float32Array(size ** 3);
  const toUnit = (index: number) => (2 * index + 1) / size - 1;
  const toIndex = (unit: number) => ((unit + 1) * size - 1) / 2;
  for (const { centre, semiAxes, angle, value } of ellipsoids) {
    const [cx, cy, cz] = centre;
    const [a, b, c] = semiAxes;
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const reach = Math.max(a, b, c);
    const range = (centreUnit: number) => [
      Math.max(0, Math.floor(toIndex(centreUnit - reach))),
      Math.min(size - 1, Math.ceil(toIndex(centreUnit + reach))),
    ];
    const [i0, i1] = range(cx);
    const [j0, j1] = range(cy);
    const [k0, k1] = range(cz);
    for (let k = k0!; k <= k1!; k++) {
      const dz = (toUnit(k) - cz) / c;
      for (let j = j0!; j <= j1!; j++) {
        const dy = toUnit(j) - cy;
        for (let i = i0!; i <= i1!; i++) {
          const dx = toUnit(i) - cx;
          const u = (cos * dx + sin * dy) / a;
          const v = (-sin * dx + cos * dy) / b;
          if (u * u + v * v + dz * dz <= 1) data[i + size * (j + size * k)] = value;
        }
      }
    }
  }
  return data;
}

/**
 * Returns one phantom volume of `options.size` voxels for `subtype` and `seed`, smoothed when
 * options.smoothing is set. The smoothing sigma is drawn from its own stream of the seed.
 */
export function sheppLoganPhantom(
  backend: ImageBackend,
  subtype: number,
  seed: number,
  options: SheppLoganOptions,
): Volume {
  checkSheppLoganOptions(options);
  const { size } = options;
  const data = rasterise(phantomEllipsoids(subtype, seed), size);
  const origin = -(size - 1) / 2;
  const affine = affineFromRows([
    [1, 0, 0, origin],
    [0, 1, 0, origin],
    [0, 0, 1, origin],
  ]);
  const volume = new Volume(data, [size, size, size], affine);
  volume.header.sformCode = 2;
  volume.header.qformCode = 2;
  volume.header.description = `Shepp-Logan phantom, subtype ${subtype}`;
  if (!options.smoothing) return volume;
  const sigmaVoxels = (new Xoshiro128(seed ^ 0x1b873593).nextFloat() * size) / 100;
  return gaussianSmooth(backend, volume, sigmaVoxels);
}
