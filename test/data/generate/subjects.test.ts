import assert from 'node:assert/strict';

import {
  alternatingDiagnoses,
  createSubjects,
  imagePath,
  shuffledDiagnoses,
} from '../../../src/data/generate/subjects.js';

describe('synthetic subjects', () => {
  it('numbers participants and draws demographics', () => {
    const subjects = createSubjects(['CN', 'AD', 'CN'], 7);
    assert.deepEqual(
      subjects.map((subject) => subject.participantId),
      ['sub-001', 'sub-002', 'sub-003'],
    );
    for (const subject of subjects) {
      assert.equal(subject.sessionId, 'ses-M000');
      assert.ok(subject.age >= 60, `age ${subject.age}`);
      assert.ok(subject.age <= 85, `age ${subject.age}`);
      assert.equal(Math.round(subject.age * 10), subject.age * 10);
      assert.ok(subject.sex === 'F' || subject.sex === 'M');
      assert.ok(Number.isInteger(subject.seed), `seed ${subject.seed}`);
      assert.ok(subject.seed >= 0, `seed ${subject.seed}`);
      assert.ok(subject.seed < 2 ** 32, `seed ${subject.seed}`);
    }
    assert.equal(new Set(subjects.map((subject) => subject.seed)).size, 3);
  });

  it('gives the same subjects for the same seed', () => {
    assert.deepEqual(createSubjects(['CN', 'AD'], 3), createSubjects(['CN', 'AD'], 3));
    assert.notDeepEqual(createSubjects(['CN', 'AD'], 3), createSubjects(['CN', 'AD'], 4));
  });

  it('pads identifiers to the largest number', () => {
    const subjects = createSubjects(alternatingDiagnoses(600), 1);
    assert.equal(subjects[0]!.participantId, 'sub-0001');
    assert.equal(subjects[1199]!.participantId, 'sub-1200');
  });

  it('lays out BIDS image paths', () => {
    const [subject] = createSubjects(['AD'], 1);
    assert.equal(imagePath(subject!), 'sub-001/ses-M000/anat/sub-001_ses-M000_T1w.nii.gz');
  });

  it('alternates the classes', () => {
    assert.deepEqual(alternatingDiagnoses(2), ['CN', 'AD', 'CN', 'AD']);
  });

  it('shuffles balanced labels by the seed alone', () => {
    const labels = shuffledDiagnoses(9, 5);
    assert.equal(labels.filter((label) => label === 'CN').length, 5);
    assert.equal(labels.filter((label) => label === 'AD').length, 4);
    assert.deepEqual(shuffledDiagnoses(9, 5), labels);
    const orders = new Set([1, 2, 3, 4, 5].map((seed) => shuffledDiagnoses(20, seed).join()));
    assert.equal(orders.size, 5);
  });

  const invalid: [string, () => unknown, RegExp][] = [
    ['a negative seed', () => createSubjects(['CN'], -1), /Seed -1 is invalid/],
    ['a seed of 2^32', () => createSubjects(['CN'], 2 ** 32), /Seed 4294967296 is invalid/],
    ['zero subjects per class', () => alternatingDiagnoses(0), /subjects per class is 0/],
    ['a fractional count', () => shuffledDiagnoses(2.5, 1), /subjects is 2\.5/],
  ];
  for (const [name, call, message] of invalid) {
    it(`rejects ${name}`, () => assert.throws(call, message));
  }
});
