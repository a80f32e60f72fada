// Inputs the reader must reject or warn about, each with a message naming the file and the
// problem, and none crashing or hanging.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'mocha';

import { readNifti } from '../../../src/data/nifti/node.js';
import { readNiftiBytes } from '../../../src/data/nifti/web.js';
import { UserError } from '../../../src/errors.js';
import { buildNifti, type BuildOptions, captureLog } from './build.js';

const FIXTURES = new URL('../../fixtures/nifti/', import.meta.url).pathname;

const small: BuildOptions = {
  shape: [4, 4, 4],
  datatype: 4,
  bitpix: 16,
  values: Array.from({ length: 64 }, (_, index) => index),
};

function withBytes(bytes: Uint8Array, edit: (view: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer));
  return copy;
}

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('readNifti bad files', () => {
  let folder = '';
  const file = (name: string, bytes: Uint8Array) => {
    const path = join(folder, name);
    writeFileSync(path, bytes);
    return path;
  };

  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'nifti-bad-'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  const valid = buildNifti(small);
  const validGzip = gzipSync(valid);

  const cases: [string, () => Uint8Array, string, RegExp][] = [
    [
      'random bytes',
      () => readFileSync(`${FIXTURES}not-nifti.nii`),
      'random.nii',
      /random\.nii is not a NIfTI or Analyze file: its first 4 bytes \(05 33 d3 aa\)/,
    ],
    [
      'an empty file',
      () => new Uint8Array(0),
      'empty.nii',
      /empty\.nii: the file has 0 byte\(s\), too few for a NIfTI header/,
    ],
    [
      'a cut header',
      () => valid.subarray(0, 200),
      'header.nii',
      /header\.nii: the file ends after 200 bytes, inside its 348-byte header; it is truncated/,
    ],
    [
      'cut voxels',
      () => valid.subarray(0, 352 + 100),
      'voxels.nii',
      /voxels\.nii: the file is truncated: it contains 100 of the 128 image bytes that the header dims \[4, 4, 4\] of int16 need/,
    ],
    [
      'a cut gzip stream',
      () => validGzip.subarray(0, validGzip.length - 12),
      'cut.nii.gz',
      /cut\.nii\.gz: the gzip stream is truncated or corrupt \(unexpected end of file\)/,
    ],
    [
      'a corrupt gzip stream',
      () => withBytes(validGzip, (view) => view.setUint32(validGzip.length - 8, 12345)),
      'crc.nii.gz',
      /crc\.nii\.gz: the gzip stream is truncated or corrupt \(incorrect data check\)/,
    ],
    [
      'dims larger than the data',
      () => withBytes(valid, (view) => view.setInt16(46, 5, true)),
      'dims.nii',
      /dims\.nii: the file is truncated: it contains 128 of the 160 image bytes that the header dims \[4, 4, 5\]/,
    ],
    [
      'vox_offset past the end',
      () => withBytes(valid, (view) => view.setFloat32(108, 4096, true)),
      'offset.nii',
      /offset\.nii: the file ends at byte 480, before its voxels start at byte 4096/,
    ],
    [
      'dim[0] of 8',
      () => withBytes(valid, (view) => view.setInt16(40, 8, true)),
      'rank.nii',
      /rank\.nii: dim\[0\] is 8; expected 1 to 7 axes/,
    ],
    [
      'a zero dim',
      () => withBytes(valid, (view) => view.setInt16(44, 0, true)),
      'zero.nii',
      /zero\.nii: dim\[2\] is 0 but dim\[0\] = 3 makes it an image axis/,
    ],
    [
      'a huge image',
      () =>
        withBytes(valid, (view) => {
          view.setInt16(40, 4, true);
          for (const offset of [42, 44, 46, 48]) view.setInt16(offset, 32767, true);
        }),
      'huge.nii',
      /huge\.nii: the header dims \[32767, 32767, 32767, 32767\] declare \d+ voxels, \d+ bytes as float32, more than the limit of 2147483648 bytes/,
    ],
    [
      'an unknown datatype',
      () => withBytes(valid, (view) => view.setInt16(70, 3, true)),
      'type.nii',
      /type\.nii: datatype code 3 is not a NIfTI datatype/,
    ],
    [
      'float128 voxels',
      () => withBytes(valid, (view) => view.setInt16(70, 1536, true)),
      'long.nii',
      /long\.nii: datatype float128 \(code 1536\) is not supported/,
    ],
    [
      'an infinite intercept',
      () => buildNifti({ ...small, slope: 2, inter: Infinity }),
      'inter.nii',
      /inter\.nii: scl_slope is 2 but scl_inter is Infinity/,
    ],
    [
      'a pair magic in a .nii',
      () => buildNifti({ ...small, magic: 'ni1' }),
      'pair.nii',
      /pair\.nii is a \.hdr header, whose voxels are in a separate \.img file/,
    ],
    [
      'an Analyze header as .nii',
      () => buildNifti({ ...small, magic: '' }),
      'analyze.nii',
      /analyze\.nii is an Analyze 7\.5 header \(no NIfTI magic\)/,
    ],
    [
      'a NIfTI-2 size without magic',
      () =>
        withBytes(Uint8Array.from([...valid, ...new Uint8Array(200)]), (view) =>
          view.setInt32(0, 540, true),
        ),
      'two.nii',
      /two\.nii: the header size is 540 \(NIfTI-2\) but the magic string is/,
    ],
  ];
  for (const [name, bytes, fileName, message] of cases) {
    it(`rejects ${name}`, async () => {
      await rejectsWith(readNifti(file(fileName, bytes())), message);
    });
  }

  it('rejects a missing file', async () => {
    await rejectsWith(
      readNifti(join(folder, 'absent.nii.gz')),
      /absent\.nii\.gz: file not found\./,
    );
  });

  it('rejects a pair without its image', async () => {
    const header = file('lonely.hdr', buildNifti({ ...small, magic: 'ni1' }).subarray(0, 348));
    await rejectsWith(
      readNifti(header),
      /lonely\.img: file not found \(also tried .*lonely\.img\.gz\)/,
    );
  });

  it('rejects a single file named .hdr', async () => {
    file('single.img', new Uint8Array(128));
    await rejectsWith(
      readNifti(file('single.hdr', valid)),
      /single\.hdr is a single-file NIfTI \(magic 'n\+'\)/,
    );
  });

  it('rejects a directory', async () => {
    await rejectsWith(readNifti(folder), /is a directory, not a NIfTI file/);
  });

  it('warns about bytes after the image', async () => {
    const shorter = withBytes(valid, (view) => view.setInt16(46, 3, true));
    const { result, messages } = await captureLog(() => readNifti(file('long.nii', shorter)));
    assert.deepEqual(result.shape, [4, 4, 3]);
    assert.equal(messages.length, 1);
    assert.match(
      messages[0]!,
      /warn nifti: .*long\.nii: 32 bytes follow the 96-byte image that the header dims describe/,
    );
  });

  it('stops reading far past the image', async () => {
    const bytes = new Uint8Array(valid.length + (20 << 20));
    bytes.set(valid);
    const padded = gzipSync(bytes);
    const { result, messages } = await captureLog(() => readNifti(file('padded.nii.gz', padded)));
    assert.equal(result.get(3, 3, 3), 63);
    assert.equal(messages.length, 1);
    assert.match(
      messages[0]!,
      /padded\.nii\.gz: more than 16777216 bytes follow the 128-byte image/,
    );
  });

  it('rejects a pair with a short image', async () => {
    const header = buildNifti({ ...small, magic: 'ni1', voxOffset: 0 }).subarray(0, 348);
    file('short.hdr', header);
    file('short.img', new Uint8Array(100));
    await rejectsWith(
      readNifti(join(folder, 'short.hdr')),
      /short\.img: the file is truncated: it contains 100 of the 128 image bytes/,
    );
  });

  it('warns about a malformed extension', async () => {
    const between = new Uint8Array(4 + 16);
    between[0] = 1;
    new DataView(between.buffer).setInt32(4, 24, true);
    const bytes = buildNifti({ ...small, voxOffset: 368, between });
    const { result, messages } = await captureLog(() => readNifti(file('extension.nii', bytes)));
    assert.deepEqual(Array.from(result.data.subarray(0, 3)), [0, 1, 2]);
    assert.equal(result.header.extensions.length, 0);
    assert.match(
      messages[0]!,
      /extension\.nii: the extension at byte 4 after the header has esize 24/,
    );
  });

  it('reads a vox_offset inside the header from byte 352', async () => {
    const bytes = withBytes(valid, (view) => view.setFloat32(108, 0, true));
    const { result, messages } = await captureLog(() => readNifti(file('inside.nii', bytes)));
    assert.equal(result.get(3, 3, 3), 63);
    assert.match(
      messages[0]!,
      /inside\.nii: vox_offset is 0, inside the header; reading the voxels from byte 352/,
    );
  });
});

describe('readNifti non-finite voxels', () => {
  const values = [1, NaN, Infinity, -Infinity, 5];
  const bytes = buildNifti({ shape: [5, 1, 1], datatype: 16, bitpix: 32, values });

  const policies: ['zero' | 'keep', number[], RegExp][] = [
    ['zero', [1, 0, 0, 0, 5], /nan\.nii: 3 voxel\(s\) are NaN or infinite; replaced with 0\./],
    [
      'keep',
      [1, NaN, Infinity, -Infinity, 5],
      /nan\.nii: 3 voxel\(s\) are NaN or infinite; kept \(nonFinite: 'keep'\)\./,
    ],
  ];
  for (const [policy, expected, warning] of policies) {
    it(`applies policy ${policy}`, async () => {
      const read = () => readNiftiBytes(bytes, { name: 'nan.nii', nonFinite: policy });
      const { result, messages } = await captureLog(read);
      assert.deepEqual(Array.from(result.data), expected);
      assert.equal(result.header.nonFiniteCount, 3);
      assert.equal(messages.length, 1);
      assert.match(messages[0]!, warning);
    });
  }

  it('zeroes by default', async () => {
    const { result } = await captureLog(() => readNiftiBytes(bytes, { name: 'nan.nii' }));
    assert.deepEqual(Array.from(result.data), [1, 0, 0, 0, 5]);
  });

  it('rejects with policy error', async () => {
    await rejectsWith(
      readNiftiBytes(bytes, { name: 'nan.nii', nonFinite: 'error' }),
      /nan\.nii: 3 voxel\(s\) are NaN or infinite; read with nonFinite: 'zero'/,
    );
  });

  it('rejects an unknown policy', async () => {
    const options = { name: 'nan.nii', nonFinite: 'drop' as 'zero' };
    await rejectsWith(
      readNiftiBytes(bytes, options),
      /nonFinite is 'drop'; expected 'error', 'zero' or 'keep'/,
    );
  });
});
