// Validation of randomAugment's options. A misspelled or missing field would otherwise reach
// the random draws as undefined and fail later as a NaN parameter, far from the mistake.

import { UserError } from '../../errors.js';
import { closestName } from '../../graph/suggest.js';
import type { AugmentOptions } from './augment.js';

/** One field of an augmentation: the rule in words, for messages, and its check. */
interface FieldRule {
  rule: string;
  check: (value: unknown) => boolean;
  optional?: boolean;
}

const isNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

const nonNegative: FieldRule = {
  rule: 'a finite number >= 0',
  check: (value) => isNumber(value) && value >= 0,
};

const FIELDS: Record<keyof AugmentOptions, Record<string, FieldRule>> = {
  flip: {
    probability: {
      rule: 'a number in [0, 1]',
      check: (value) => isNumber(value) && value >= 0 && value <= 1,
    },
    axes: {
      rule: 'a list of voxel axes, each 0 (x), 1 (y) or 2 (z)',
      check: (value) => Array.isArray(value) && value.every((axis) => [0, 1, 2].includes(axis)),
      optional: true,
    },
  },
  noise: { min: nonNegative, max: nonNegative },
  gamma: { logRange: nonNegative },
  biasField: {
    order: {
      rule: 'an integer in [0, 6]',
      check: (value) => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 6,
    },
    coefficient: nonNegative,
  },
  affine: {
    degrees: nonNegative,
    scale: {
      rule: 'a number in [0, 1)',
      check: (value) => isNumber(value) && value >= 0 && value < 1,
    },
    translationMm: nonNegative,
  },
};

const AUGMENTATIONS = Object.keys(FIELDS) as (keyof AugmentOptions)[];

/**
 * Checks randomAugment's options: only known augmentations and fields, every required field
 * present and valid, noise.min <= noise.max. Throws a UserError naming the field, the rule and
 * the value received, with the closest known name for an unknown one. An augmentation that is
 * undefined or null is off.
 */
export function checkAugmentOptions(options: unknown): AugmentOptions {
  if (!isPlainObject(options)) {
    throw new UserError(
      `randomAugment options must be an object with some of the fields ` +
        `${AUGMENTATIONS.join(', ')}; got ${describe(options)}.`,
    );
  }
  for (const name of Object.keys(options)) {
    if (!Object.hasOwn(FIELDS, name))
      throw unknownField('randomAugment options have', name, AUGMENTATIONS);
    const fields = options[name];
    if (fields !== undefined && fields !== null) checkFields(name as keyof AugmentOptions, fields);
  }
  const noise = options.noise as AugmentOptions['noise'];
  if (noise && noise.min > noise.max) {
    throw new UserError(
      `randomAugment option noise has min ${noise.min} > max ${noise.max}; the std is drawn ` +
        'from [min, max], so min must be <= max.',
    );
  }
  return options as AugmentOptions;
}

function checkFields(augmentation: keyof AugmentOptions, fields: unknown): void {
  const rules = FIELDS[augmentation];
  const names = Object.keys(rules);
  if (!isPlainObject(fields)) {
    throw new UserError(
      `randomAugment option ${augmentation} must be an object with the fields ` +
        `${names.join(', ')}; got ${describe(fields)}.`,
    );
  }
  for (const name of Object.keys(fields)) {
    if (!Object.hasOwn(rules, name)) {
      throw unknownField(`randomAugment option ${augmentation} has`, name, names);
    }
  }
  for (const [name, { rule, check, optional }] of Object.entries(rules)) {
    const value = fields[name];
    if (value === undefined && optional) continue;
    if (value === undefined) {
      throw new UserError(
        `randomAugment option ${augmentation}.${name} is missing: expected ${rule}.`,
      );
    }
    if (!check(value)) {
      throw new UserError(
        `randomAugment option ${augmentation}.${name} is ${describe(value)}, which is ` +
          `invalid: expected ${rule}.`,
      );
    }
  }
}

// `owner` starts the message, for example "randomAugment option gamma has".
function unknownField(owner: string, name: string, known: readonly string[]): UserError {
  const suggestion = suggestName(name, known);
  const hint = suggestion === undefined ? '' : ` Did you mean '${suggestion}'?`;
  return new UserError(
    `${owner} no field '${name}'; the known fields are ${known.join(', ')}.${hint}`,
  );
}

// The closest name by spelling, else the only known name that contains `name` (so 'range'
// finds 'logRange').
function suggestName(name: string, known: readonly string[]): string | undefined {
  const closest = closestName(name, known);
  if (closest !== undefined || name.length < 3) return closest;
  const containing = known.filter((field) => field.toLowerCase().includes(name.toLowerCase()));
  return containing.length === 1 ? containing[0] : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
