import assert from 'node:assert/strict';

import { pairVolumeFiles, sortFiles } from '../../src/web/drop.js';

const file = (name: string) => new File([new Uint8Array(2)], name);

describe('web drop', () => {
  const cases: [string, string[], string[]][] = [
    ['one zip', ['exp.zip'], ['model exp.zip']],
    ['an upper-case zip', ['EXP.ZIP'], ['model EXP.ZIP']],
    ['volumes', ['a.nii', 'b.nii.gz'], ['volumes a.nii,b.nii.gz']],
    [
      'a zip among volumes',
      ['a.nii', 'exp.zip', 'b.nii'],
      ['model exp.zip', 'volumes a.nii,b.nii'],
    ],
    ['two zips', ['one.zip', 'two.zip'], ['model one.zip', 'model two.zip']],
    ['a zip-like name', ['exp.zip.nii'], ['volumes exp.zip.nii']],
    ['nothing', [], []],
  ];
  for (const [name, files, expected] of cases) {
    it(`sortFiles with ${name}`, () => {
      const sorted = sortFiles(files.map(file)).map((input) =>
        input.kind === 'model'
          ? `model ${input.source.name}`
          : `volumes ${input.files.map((volume) => volume.name).join()}`,
      );
      assert.deepEqual(sorted, expected);
    });
  }

  it('sortFiles keeps the zip file', () => {
    const zip = file('exp.zip');
    const [input] = sortFiles([zip]);
    assert.equal(input?.kind, 'model');
    assert.deepEqual(input?.kind === 'model' && input.source, {
      kind: 'zip',
      file: zip,
      name: 'exp.zip',
    });
  });

  const pairCases: [string, string[], string[]][] = [
    ['one NIfTI file', ['a.nii'], ['a.nii']],
    ['a pair', ['a.hdr', 'a.img'], ['a.hdr+a.img']],
    ['a pair image first', ['a.img', 'a.hdr'], ['a.hdr+a.img']],
    ['a compressed pair', ['a.hdr.gz', 'a.IMG.gz'], ['a.hdr.gz+a.IMG.gz']],
    ['a lone header', ['a.hdr'], ['a.hdr']],
    ['a lone image', ['b.img'], ['b.img']],
    ['different stems', ['a.hdr', 'b.img'], ['a.hdr', 'b.img']],
    [
      'two pairs and a file',
      ['x.nii', 'b.img', 'a.hdr', 'b.hdr', 'a.img'],
      ['x.nii', 'b.hdr+b.img', 'a.hdr+a.img'],
    ],
  ];
  for (const [name, files, expected] of pairCases) {
    it(`pairVolumeFiles with ${name}`, () => {
      const volumes = pairVolumeFiles(files.map(file)).map(({ file: first, image }) =>
        image ? `${first.name}+${image.name}` : first.name,
      );
      assert.deepEqual(volumes, expected);
    });
  }
});
