import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { catalogueFiles } from '../../src/dsl/catalogue.js';
import { compileNetFile } from '../../src/dsl/compile.js';
import { DslError } from '../../src/dsl/diagnostics.js';
import { netLexer } from '../../src/dsl/lexer.js';
import { memoryHost } from '../../src/dsl/modules.js';
import { parseNet } from '../../src/dsl/parse.js';

const CASES = 300;
// DSL_FUZZ_SEED explores other cases; a failure names the case to reproduce with that seed.
const SEED = Number(process.env.DSL_FUZZ_SEED ?? 20261204);
/** Per case; elaborating the largest catalogue network with its defaults takes about 0.1 s. */
const TIME_BOUND_MS = 3000;

/** mulberry32: a small seeded generator, so every run mutates the same way. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = 'delete' | 'duplicate' | 'swap';

/** Applies one token-level mutation; tokens keep their text, so comments and layout stay. */
function mutate(source: string, next: () => number): { text: string; what: string } {
  const tokens = netLexer.tokenize(source).tokens;
  const pick = () => Math.floor(next() * tokens.length);
  const kinds: Mutation[] = ['delete', 'duplicate', 'swap'];
  const kind = kinds[Math.floor(next() * kinds.length)]!;
  const a = tokens[pick()]!;
  const start = a.startOffset;
  const end = a.endOffset! + 1;
  if (kind === 'delete') {
    return {
      text: source.slice(0, start) + source.slice(end),
      what: `delete '${a.image}' at ${start}`,
    };
  }
  if (kind === 'duplicate') {
    return {
      text: source.slice(0, end) + ' ' + a.image + source.slice(end),
      what: `duplicate '${a.image}' at ${start}`,
    };
  }
  // Swap with a nearby token half of the time, with any token otherwise.
  const near = next() < 0.5;
  const index = tokens.indexOf(a);
  const other = near ? tokens[Math.min(tokens.length - 1, index + 1)]! : tokens[pick()]!;
  const [first, second] = a.startOffset <= other.startOffset ? [a, other] : [other, a];
  if (first === second) return { text: source, what: 'swap a token with itself' };
  const text =
    source.slice(0, first.startOffset) +
    second.image +
    source.slice(first.endOffset! + 1, second.startOffset) +
    first.image +
    source.slice(second.endOffset! + 1);
  return { text, what: `swap '${first.image}' and '${second.image}' at ${first.startOffset}` };
}

/** Returns the networks a file declares, or [undefined] for a file with blocks only. */
function networksOf(text: string, file: string): (string | undefined)[] {
  const parsed = parseNet(text, file);
  const names = (parsed.value?.decls ?? []).filter((d) => d.kind === 'network').map((d) => d.name);
  return names.length > 0 ? names : [undefined];
}

describe('dsl fuzz', function () {
  this.timeout(CASES * TIME_BOUND_MS);

  it(`turns ${CASES} mutated catalogue files into graphs or diagnostics`, () => {
    const files = catalogueFiles();
    const originals = Object.fromEntries(files.map((file) => [file, readFileSync(file, 'utf8')]));
    const next = random(SEED);
    let diagnosed = 0;
    for (let i = 0; i < CASES; i++) {
      const file = files[Math.floor(next() * files.length)]!;
      const { text, what } = mutate(originals[file]!, next);
      const networks = networksOf(originals[file]!, file);
      const network = networks[Math.floor(next() * networks.length)];
      const label = `case ${i}: ${basename(file)}, ${what}, network ${network}`;
      const host = memoryHost({ ...originals, [file]: text });
      const started = performance.now();
      try {
        compileNetFile(host, file, network === undefined ? {} : { network });
      } catch (error) {
        if (!(error instanceof DslError)) {
          assert.fail(`${label}: threw ${(error as Error).stack ?? String(error)}`);
        }
        assert.ok(error.diagnostics.length > 0, `${label}: a DslError without diagnostics`);
        for (const diagnostic of error.diagnostics) {
          assert.ok(diagnostic.message.length > 0, `${label}: an empty message`);
          if (diagnostic.span) assert.ok(diagnostic.span.line >= 1, `${label}: line < 1`);
        }
        diagnosed += 1;
      }
      const elapsed = performance.now() - started;
      assert.ok(elapsed < TIME_BOUND_MS, `${label}: took ${elapsed.toFixed(0)} ms`);
    }
    // Most mutations break a file; a run where none does would mean the mutator is broken.
    assert.ok(diagnosed > CASES / 2, `only ${diagnosed} of ${CASES} cases gave diagnostics`);
  });
});
