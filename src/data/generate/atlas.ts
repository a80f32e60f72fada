// Atlas regions for the 'trivial' generator: the label table that names an atlas's values, the
// default atrophy regions of the AAL atlas, and the check that an atlas contains each region.
//
// A label table is text with one region per line: the voxel value, the region's name, then
// optional columns that are ignored. MRIcron's templates ship one beside each atlas
// (aal.nii.gz has aal.nii.txt, whose lines read `37 Hippocampus_L 4101`).

import { UserError } from '../../errors.js';
import { closestName } from '../../graph/suggest.js';
import type { Volume } from '../volume.js';
import type { ImageBackend } from '../wasm/backend.js';

export interface AtlasLabel {
  /** Voxel value of the region in the atlas image. */
  value: number;
  name: string;
}

/**
 * Default atrophy regions in the AAL atlas: the left hippocampus, parahippocampal gyrus and
 * temporal lobe, which Alzheimer's disease shrinks first.
 */
export const DEFAULT_AAL_REGIONS: readonly string[] = [
  'Hippocampus_L',
  'ParaHippocampal_L',
  'Temporal_Sup_L',
  'Temporal_Pole_Sup_L',
  'Temporal_Mid_L',
  'Temporal_Pole_Mid_L',
  'Temporal_Inf_L',
];

/** Parses a label table (see the file header); blank lines and lines starting with # are skipped. */
export function parseLabelTable(text: string, source: string): AtlasLabel[] {
  const labels: AtlasLabel[] = [];
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const [valueText, name] = trimmed.split(/\s+/);
    const value = Number(valueText);
    if (name === undefined || !Number.isInteger(value) || value <= 0) {
      throw new UserError(
        `${source}, line ${index + 1}: '${trimmed}' is not a label line; expected a positive ` +
          'integer voxel value and a region name, for example "37 Hippocampus_L".',
      );
    }
    labels.push({ value, name });
  }
  if (labels.length === 0) throw new UserError(`${source}: the label table has no regions.`);
  return labels;
}

/**
 * Returns the labels of `regions`, each a positive integer voxel value, a region name from
 * `table`, or a name pattern where * matches any characters ('*_L' selects every region of the
 * left hemisphere in AAL, as ClinicaDL's hemisphere atrophy does). Names are matched exactly,
 * and a misspelt name gets the closest one as a hint. Repeated regions are kept once.
 */
export function resolveRegions(
  regions: readonly string[],
  table: readonly AtlasLabel[] | null,
  atlasName: string,
): AtlasLabel[] {
  if (regions.length === 0) throw new UserError('No atrophy region was given; give at least one.');
  const labels = regions.flatMap((region) =>
    region.includes('*')
      ? matchPattern(region, table, atlasName)
      : [resolveRegion(region, table, atlasName)],
  );
  return labels.filter(
    (label, index) => labels.findIndex((other) => other.value === label.value) === index,
  );
}

function matchPattern(
  pattern: string,
  table: readonly AtlasLabel[] | null,
  atlasName: string,
): AtlasLabel[] {
  if (table === null) {
    throw new UserError(
      `Region pattern '${pattern}' needs the label table of the atlas ${atlasName}; give it ` +
        'with --atlas-labels.',
    );
  }
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  const regex = new RegExp(`^${escaped.join('.*')}$`);
  const matches = table.filter((label) => regex.test(label.name));
  if (matches.length > 0) return matches;
  throw new UserError(
    `Region pattern '${pattern}' matches no region in the label table of ${atlasName}.`,
  );
}

function resolveRegion(
  region: string,
  table: readonly AtlasLabel[] | null,
  atlasName: string,
): AtlasLabel {
  const value = Number(region);
  if (Number.isInteger(value) && value > 0) {
    const named = table?.find((label) => label.value === value);
    return { value, name: named?.name ?? String(value) };
  }
  if (table === null) {
    throw new UserError(
      `Region '${region}' is a name, but the atlas ${atlasName} has no label table; give ` +
        'the label table with --atlas-labels, or give regions as voxel values.',
    );
  }
  const label = table.find((entry) => entry.name === region);
  if (label !== undefined) return label;
  const hint = closestName(
    region,
    table.map((entry) => entry.name),
  );
  throw new UserError(
    `Region '${region}' is not in the label table of ${atlasName}` +
      (hint ? `; did you mean '${hint}'?` : '; check the names in its label table.'),
  );
}

/** Throws when the atlas has no voxel of one of the regions, naming that region. */
export function checkRegionsPresent(
  backend: ImageBackend,
  atlas: Volume,
  regions: readonly AtlasLabel[],
  atlasName: string,
): void {
  const labels = atlas.data.subarray(0, atlas.frameSize);
  for (const region of regions) {
    const mask = backend.labelMask(labels, [region.value]);
    if (backend.statistics(mask).max > 0) continue;
    throw new UserError(
      `The atlas ${atlasName} has no voxel of region ${region.name} (value ${region.value}) ` +
        'on the image grid; check --regions against the atlas and its label table.',
    );
  }
}
