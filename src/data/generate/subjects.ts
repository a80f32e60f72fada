// The subjects of a synthetic dataset: their BIDS identifiers, labels, demographics and seeds.
// Every subject's random draws come from its own seed, taken in order from a generator started
// at the dataset's seed, so one seed gives the same dataset whatever the number of workers.

import { UserError } from '../../errors.js';
import { Xoshiro128 } from '../transforms/random.js';

/** The session every synthetic subject has: ClinicaDL's name for the baseline visit. */
export const SESSION_ID = 'ses-M000';

/** Age range of the synthetic participants in years; ages carry no class information. */
const AGE_RANGE: readonly [number, number] = [60, 85];

export type Diagnosis = 'CN' | 'AD';

export interface SubjectRecord {
  /** BIDS participant label with its prefix, for example 'sub-001'. */
  participantId: string;
  sessionId: string;
  diagnosis: Diagnosis;
  /** Age in years, one decimal. */
  age: number;
  sex: 'F' | 'M';
  /** Seed of this subject's image draws (an unsigned 32-bit integer). */
  seed: number;
  /** Shepp-Logan subtype (0, 1 or 2); only the 'shepplogan' generator sets it. */
  subtype?: number;
}

/** Checks a dataset seed: an integer in [0, 2^32). */
export function checkSeed(seed: number): void {
  if (Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32) return;
  throw new UserError(`Seed ${seed} is invalid: expected an integer from 0 to 4294967295.`);
}

/**
 * Creates `diagnoses.length` subjects, numbered from 1 in order, with demographics drawn from
 * each subject's seed. Identifiers are zero-padded to at least three digits.
 */
export function createSubjects(diagnoses: readonly Diagnosis[], seed: number): SubjectRecord[] {
  checkSeed(seed);
  const digits = Math.max(3, String(diagnoses.length).length);
  const seeds = new Xoshiro128(seed);
  return diagnoses.map((diagnosis, index) => {
    const subjectSeed = seeds.nextU32();
    const random = new Xoshiro128(subjectSeed ^ 0x5bd1e995);
    const age = Math.round(10 * random.uniform(AGE_RANGE[0], AGE_RANGE[1])) / 10;
    return {
      participantId: `sub-${String(index + 1).padStart(digits, '0')}`,
      sessionId: SESSION_ID,
      diagnosis,
      age,
      sex: random.nextFloat() < 0.5 ? 'F' : 'M',
      seed: subjectSeed,
    };
  });
}

/** Returns CN and AD alternating, `perClass` of each, so any prefix of the list is balanced. */
export function alternatingDiagnoses(perClass: number): Diagnosis[] {
  checkCount(perClass, 'subjects per class');
  return Array.from({ length: 2 * perClass }, (_, index) => (index % 2 === 0 ? 'CN' : 'AD'));
}

/**
 * Returns `count` diagnoses, half CN and half AD (CN gets the extra one for an odd count), in
 * an order shuffled by `seed` alone, so labels do not depend on any image.
 */
export function shuffledDiagnoses(count: number, seed: number): Diagnosis[] {
  checkCount(count, 'subjects');
  checkSeed(seed);
  const diagnoses: Diagnosis[] = Array.from({ length: count }, (_, index) =>
    index < Math.ceil(count / 2) ? 'CN' : 'AD',
  );
  // Fisher-Yates shuffle from a stream apart from the subjects' seeds.
  const random = new Xoshiro128(seed ^ 0x27d4eb2f);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random.nextFloat() * (i + 1));
    [diagnoses[i], diagnoses[j]] = [diagnoses[j]!, diagnoses[i]!];
  }
  return diagnoses;
}

/** Returns the image path of a subject relative to the dataset root, as BIDS lays it out. */
export function imagePath(subject: SubjectRecord): string {
  const { participantId, sessionId } = subject;
  return `${participantId}/${sessionId}/anat/${participantId}_${sessionId}_T1w.nii.gz`;
}

function checkCount(count: number, what: string): void {
  if (Number.isInteger(count) && count >= 1) return;
  throw new UserError(`The number of ${what} is ${count}; expected an integer >= 1.`);
}
