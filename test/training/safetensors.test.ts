import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/training/atomic-write.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  type NamedTensor,
} from '../../src/training/safetensors.js';

function sample(): Map<string, NamedTensor> {
  return new Map<string, NamedTensor>([
    ['conv.weight', { dtype: 'F32', shape: [2, 1, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) }],
    ['bn.num_batches_tracked', { dtype: 'I64', shape: [], data: BigInt64Array.of(7n) }],
    ['conv.bias', { dtype: 'F32', shape: [2], data: Float32Array.of(-0.5, 0.25) }],
  ]);
}

describe('safetensors', () => {
  it('round-trips tensors and metadata', () => {
    const bytes = encodeSafetensors(sample(), { format: 'pt' });
    const { tensors, metadata } = decodeSafetensors(bytes);
    assert.deepEqual(metadata, { format: 'pt' });
    assert.deepEqual([...tensors.keys()], ['conv.weight', 'bn.num_batches_tracked', 'conv.bias']);
    assert.deepEqual([...(tensors.get('conv.weight')!.data as Float32Array)], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(tensors.get('conv.weight')!.shape, [2, 1, 3]);
    assert.equal((tensors.get('bn.num_batches_tracked')!.data as BigInt64Array)[0], 7n);
  });

  it('decodes a Node Buffer into tensors of their own', () => {
    const bytes = Buffer.from(encodeSafetensors(sample()));
    const weight = decodeSafetensors(bytes).tensors.get('conv.weight')!.data;
    assert.equal(weight.buffer.byteLength, 24);
    assert.deepEqual([...(weight as Float32Array)], [1, 2, 3, 4, 5, 6]);
  });

  it('lays out the header as the format defines', () => {
    const bytes = encodeSafetensors(
      new Map([['x', { dtype: 'F32' as const, shape: [1], data: Float32Array.of(1) }]]),
    );
    const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(length % 8, 0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
    assert.deepEqual(header.x, { dtype: 'F32', shape: [1], data_offsets: [0, 4] });
    assert.deepEqual([...bytes.subarray(8 + length)], [0, 0, 0x80, 0x3f]);
  });

  it('rejects corrupt files with the source name', () => {
    const bytes = encodeSafetensors(sample());
    assert.throws(
      () => decodeSafetensors(bytes.subarray(0, 5), 'w.safetensors'),
      /w\.safetensors .*only 5 bytes/,
    );
    assert.throws(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4), 'w'), /byte range/);
    const garbage = new Uint8Array(16);
    new DataView(garbage.buffer).setBigUint64(0, 8n, true);
    assert.throws(() => decodeSafetensors(garbage, 'g'), /header is not JSON/);
  });

  it('rejects data that does not fit the shape', () => {
    const tensors = new Map([
      ['w', { dtype: 'F32' as const, shape: [3], data: Float32Array.of(1) }],
    ]);
    assert.throws(() => encodeSafetensors(tensors), /'w' has 4 bytes of data but shape \[3\]/);
  });
});

describe('writeFileAtomic', () => {
  it('leaves no temporary file behind', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'atomic-'));
    try {
      await writeFileAtomic(join(folder, 'a.bin'), [Uint8Array.of(1, 2), Uint8Array.of(3)]);
      assert.deepEqual([...readFileSync(join(folder, 'a.bin'))], [1, 2, 3]);
      assert.deepEqual(readdirSync(folder), ['a.bin']);
    } finally {
      rmSync(folder, { recursive: true });
    }
  });

  it('keeps the old file when writing fails', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'atomic-'));
    try {
      const path = join(folder, 'a.bin');
      await writeFileAtomic(path, [Uint8Array.of(9)]);
      async function* failing() {
        yield Uint8Array.of(1);
        throw new Error('disk full');
      }
      await assert.rejects(writeFileAtomic(path, failing()), /disk full/);
      assert.deepEqual([...readFileSync(path)], [9]);
      assert.deepEqual(readdirSync(folder), ['a.bin']);
    } finally {
      rmSync(folder, { recursive: true });
    }
  });
});
