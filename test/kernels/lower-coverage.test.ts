import assert from 'node:assert/strict';
import { OP_NAMES, type OpName } from '../../src/graph/ops/index.js';
import '../../src/kernels/compile.js';
import { getLowering } from '../../src/kernels/lower.js';

/** Ops of the IR without a GPU kernel yet, and why; compileGraph names them in its error. */
const NOT_LOWERED: Partial<Record<OpName, string>> = {};

describe('lowerings', () => {
  it('cover every op of the IR', () => {
    const missing = OP_NAMES.filter((op) => !getLowering(op) && !(op in NOT_LOWERED));
    assert.deepEqual(missing, []);
  });

  it('list no lowered op as missing', () => {
    const stale = Object.keys(NOT_LOWERED).filter((op) => getLowering(op as OpName));
    assert.deepEqual(stale, []);
  });
});
