import assert from 'node:assert/strict';
import { formatTsv, parseTsv, type Table } from '../../src/data/participants.js';
import { makeKFold, makeSplit } from '../../src/data/splits.js';

/** 30 participants (20 CN, 10 AD), the first 6 with two sessions. */
function cohort(): Table {
  const rows = [];
  for (let p = 0; p < 30; p++) {
    const diagnosis = p % 3 === 0 ? 'AD' : 'CN';
    for (const session of p < 6 ? ['ses-M000', 'ses-M012'] : ['ses-M000']) {
      rows.push({
        participant_id: `sub-${String(p).padStart(3, '0')}`,
        session_id: session,
        diagnosis,
      });
    }
  }
  return parseTsv(formatTsv(['participant_id', 'session_id', 'diagnosis'], rows), 'cohort.tsv');
}

const participantsOf = (rows: { participant_id?: string }[]) =>
  new Set(rows.map((r) => r.participant_id));

describe('makeKFold', () => {
  it('keeps participants within one fold', () => {
    const folds = makeKFold(cohort(), 5, { stratify: 'diagnosis', seed: 1 });
    assert.equal(folds.length, 5);
    for (const { train, validation } of folds) {
      const overlap = [...participantsOf(train)].filter((id) => participantsOf(validation).has(id));
      assert.deepEqual(overlap, []);
      assert.equal(train.length + validation.length, 36);
    }
  });

  it('validates on every participant once', () => {
    const folds = makeKFold(cohort(), 5, { stratify: 'diagnosis', seed: 1 });
    const seen = folds.flatMap(({ validation }) => [...participantsOf(validation)]);
    assert.equal(seen.length, 30);
    assert.equal(new Set(seen).size, 30);
  });

  it('stratifies by label', () => {
    for (const { validation } of makeKFold(cohort(), 5, { stratify: 'diagnosis', seed: 3 })) {
      const ad = new Set(
        validation.filter((r) => r.diagnosis === 'AD').map((r) => r.participant_id),
      );
      assert.equal(ad.size, 2);
    }
  });

  it('is reproducible from the seed', () => {
    const a = makeKFold(cohort(), 3, { seed: 9 });
    const b = makeKFold(cohort(), 3, { seed: 9 });
    const c = makeKFold(cohort(), 3, { seed: 10 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('rejects too many folds', () => {
    assert.throws(
      () => makeKFold(cohort(), 31),
      /between 2 and the number of participants \(30\), got 31/,
    );
  });
});

describe('makeSplit', () => {
  it('holds out a stratified fraction of participants', () => {
    const { rest, heldOut } = makeSplit(cohort(), 0.2, { stratify: 'diagnosis', seed: 2 });
    const held = participantsOf(heldOut);
    assert.equal(held.size, 6);
    assert.equal(
      heldOut.filter((r) => r.diagnosis === 'AD' && r.session_id === 'ses-M000').length,
      2,
    );
    assert.ok([...participantsOf(rest)].every((id) => !held.has(id)));
  });
});

describe('participants table', () => {
  it('names a missing label column', () => {
    assert.throws(
      () => makeKFold(cohort(), 3, { stratify: 'diagnosys' }),
      /missing column 'diagnosys' \(did you mean 'diagnosis'\?\)/,
    );
  });

  it('rejects a repeated session', () => {
    const text = 'participant_id\tsession_id\tdiagnosis\nsub-1\tses-1\tCN\nsub-1\tses-1\tAD\n';
    assert.throws(
      () => makeKFold(parseTsv(text, 'p.tsv'), 2),
      /p\.tsv, line 3: sub-1 ses-1 already appears on line 2/,
    );
  });

  it('rejects a short line', () => {
    const text = 'participant_id\tsession_id\tdiagnosis\nsub-1\tses-1\n';
    assert.throws(() => parseTsv(text, 'p.tsv'), /p\.tsv, line 2: 2 values for 3 columns/);
  });
});
