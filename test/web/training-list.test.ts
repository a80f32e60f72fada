import assert from 'node:assert/strict';

import { UserError } from '../../src/errors.js';
import {
  addImages,
  labelIndices,
  niftiNameError,
  parseClasses,
  readNumberField,
  relabelImages,
  unlabelledWarning,
  type TrainingImage,
} from '../../src/web/training-list.js';

const file = (name: string) => new File([new Uint8Array(4)], name);

/** Images named a.nii, b.nii, ... with the given classes. */
function images(...labels: (string | undefined)[]): TrainingImage[] {
  return labels.map((label, index) => ({
    file: file(`${String.fromCharCode(97 + index)}.nii`),
    label,
  }));
}

const labelsOf = (list: readonly TrainingImage[]) => list.map((image) => image.label);

describe('web training list', () => {
  const classCases: [string, string, string[]][] = [
    ['two names', 'CN, AD', ['CN', 'AD']],
    ['extra spaces and commas', ' CN ,, AD ,', ['CN', 'AD']],
    ['a repeated name', 'CN, AD, CN', ['CN', 'AD']],
    ['an empty field', '  ', []],
  ];
  for (const [name, text, expected] of classCases) {
    it(`parseClasses with ${name}`, () => {
      assert.deepEqual(parseClasses(text), expected);
    });
  }

  const relabelCases: [string, (string | undefined)[], string[], (string | undefined)[]][] = [
    ['swapped classes', ['CN', 'AD', 'AD'], ['AD', 'CN'], ['CN', 'AD', 'AD']],
    ['a class added between', ['CN', 'AD'], ['CN', 'MCI', 'AD'], ['CN', 'AD']],
    ['a class removed', ['CN', 'AD', 'CN'], ['CN', 'MCI'], ['CN', undefined, 'CN']],
    ['every class removed', ['CN', 'AD'], [], [undefined, undefined]],
    ['an unlabelled image', [undefined, 'AD'], ['AD', 'CN'], [undefined, 'AD']],
  ];
  for (const [name, before, classes, after] of relabelCases) {
    it(`relabelImages keeps names with ${name}`, () => {
      const { images: relabelled } = relabelImages(images(...before), classes);
      assert.deepEqual(labelsOf(relabelled), after);
    });
  }

  it('relabelImages lists images that lost a class', () => {
    const { unlabelled } = relabelImages(images('CN', 'AD', 'AD', undefined), ['CN', 'MCI']);
    assert.deepEqual(unlabelled, ['b.nii', 'c.nii']);
  });

  it('unlabelledWarning names images and classes', () => {
    assert.equal(unlabelledWarning([], ['CN']), '');
    assert.equal(
      unlabelledWarning(['b.nii'], ['CN', 'MCI']),
      'b.nii lost its class, which is no longer in Classes: choose one of CN, MCI.',
    );
    assert.match(unlabelledWarning(['b.nii', 'c.nii'], []), /^b\.nii, c\.nii lost their classes/);
  });

  it('addImages alternates default classes', () => {
    const first = addImages([], [file('a.nii'), file('b.nii.gz'), file('c.NII')], ['CN', 'AD']);
    assert.deepEqual(labelsOf(first.images), ['CN', 'AD', 'CN']);
    assert.deepEqual(first.errors, []);
    const second = addImages(first.images, [file('d.nii')], ['CN', 'AD']);
    assert.deepEqual(labelsOf(second.images), ['CN', 'AD', 'CN', 'AD']);
    const none = addImages([], [file('a.nii')], []);
    assert.deepEqual(labelsOf(none.images), [undefined]);
  });

  it('addImages rejects files that are not NIfTI', () => {
    const files = [file('notes.txt'), file('a.nii'), file('scan.hdr'), file('model.zip')];
    const { images: added, errors } = addImages([], files, ['CN', 'AD']);
    assert.deepEqual(
      added.map((image) => image.file.name),
      ['a.nii'],
    );
    assert.equal(errors.length, 3);
    assert.ok(errors.every((error) => error instanceof UserError));
    assert.match(errors[0]!.message, /^notes\.txt is not a NIfTI file: /);
    assert.match(errors[1]!.message, /^scan\.hdr is one half of a \.hdr\/\.img pair/);
    assert.match(errors[1]!.message, /convert the pair to \.nii/);
    assert.match(errors[2]!.message, /^model\.zip is not a NIfTI file/);
  });

  const nameCases: [string, boolean][] = [
    ['a.nii', true],
    ['a.nii.gz', true],
    ['A.NII.GZ', true],
    ['a.img', false],
    ['a.hdr.gz', false],
    ['a.nii.zip', false],
    ['nii', false],
  ];
  for (const [name, accepted] of nameCases) {
    it(`niftiNameError on ${name}`, () => {
      assert.equal(niftiNameError(name) === undefined, accepted);
    });
  }

  it('labelIndices maps names to indices', () => {
    const list = images('AD', 'CN', undefined, 'MCI');
    assert.deepEqual(labelIndices(list, ['CN', 'AD']), [1, 0, -1, -1]);
  });

  const fieldCases: [string, number][] = [
    ['5', 5],
    [' 0.001 ', 0.001],
    ['1e-3', 0.001],
    ['0', 0],
  ];
  for (const [text, expected] of fieldCases) {
    it(`readNumberField reads '${text}'`, () => {
      assert.equal(readNumberField('Epochs', text), expected);
    });
  }

  it('readNumberField rejects empty fields', () => {
    for (const text of ['', '   ']) {
      assert.throws(
        () => readNumberField('Epochs', text),
        (error: Error) =>
          error instanceof UserError &&
          error.message === 'The Epochs field is empty: enter a number.',
      );
    }
    assert.throws(
      () => readNumberField('Learning rate', 'abc'),
      /^UserError: The Learning rate field contains 'abc', which is not a number\.$/,
    );
  });
});
