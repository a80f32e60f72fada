// Acceptance tests of the .net language from a new user's side: networks written from
// docs/language.md, checked against PyTorch, and the mistakes users make. The PyTorch numbers
// come from fixtures/reference.py, whose output is committed.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { catalogueFolder, nodeHost } from '../../src/dsl/catalogue.js';
import { compileNetFile } from '../../src/dsl/compile.js';
import { DslError, type Diagnostic } from '../../src/dsl/diagnostics.js';
import type { SourceHost } from '../../src/dsl/modules.js';
import type { Graph } from '../../src/graph/ir.js';

interface Reference {
  nets: Record<string, { params: number; stateDict: string[] }>;
  variants3d: Record<string, number>;
}

const reference = JSON.parse(
  readFileSync(new URL('fixtures/reference.json', import.meta.url), 'utf8'),
) as Reference;

const netPath = (name: string) => fileURLToPath(new URL(`nets/${name}`, import.meta.url));

function paramCount(graph: Graph): number {
  return graph.params.reduce((total, p) => total + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** Returns a host that serves in-memory files under /mem, so each broken case is one string. */
function memoryHost(files: Record<string, string>): SourceHost {
  return { readFile: (path) => files[path.replace(/^\/mem\//, '')] };
}

/** Compiles `main.net` of `files` and returns its diagnostics. A clean compile fails the test. */
function diagnosticsOf(files: Record<string, string>): Diagnostic[] {
  try {
    compileNetFile(memoryHost(files), '/mem/main.net');
  } catch (error) {
    assert.ok(error instanceof DslError, `expected a DslError, got ${String(error)}`);
    return error.diagnostics;
  }
  assert.fail('the file compiled without a diagnostic');
}

const net = (body: string) =>
  `network A(inShape: ints = [1, 8, 8, 8]) {\n  input x: inShape\n${body}\n}\n`;

describe('acceptance: networks a PyTorch user writes', () => {
  for (const name of ['small3d.net', 'res.net', 'tiny-unet.net']) {
    it(`${name} has PyTorch's parameter count and state_dict names`, () => {
      const graph = compileNetFile(nodeHost, netPath(name)).graph;
      const expected = reference.nets[name]!;
      assert.equal(paramCount(graph), expected.params);
      const names = graph.stateValues().map((value) => value.name);
      assert.deepEqual([...names].sort(), [...expected.stateDict].sort());
    });
  }

  const variants: [string, string][] = [
    ['ResNet18', 'resnet.net'],
    ['ResNet50', 'resnet.net'],
    ['DenseNet121', 'densenet.net'],
    ['ViTB16', 'vit.net'],
  ];
  for (const [network, file] of variants) {
    it(`3D ${network} (1 channel, 64^3, 2 outputs) matches torchvision made 3D`, () => {
      const set = ['spatialDims=3', 'inChannels=1', 'imageSize=64', 'numOutputs=2'];
      const graph = compileNetFile(nodeHost, `${catalogueFolder()}/${file}`, { network, set });
      assert.equal(paramCount(graph.graph), reference.variants3d[network]);
    });
  }
});

interface BrokenCase {
  name: string;
  files: Record<string, string>;
  line: number;
  column: number;
  message: RegExp;
  suggestion?: string;
}

const broken: BrokenCase[] = [
  {
    name: 'a misspelt layer',
    files: { 'main.net': net('  output y = cnov(x, 4, kernelSize: 3)') },
    line: 3,
    column: 14,
    message: /unknown layer 'cnov'/,
    suggestion: 'conv',
  },
  {
    name: 'an argument in the wrong case',
    files: { 'main.net': net('  output y = conv(x, 4, kernelsize: 3)') },
    line: 3,
    column: 25,
    message: /conv has no argument 'kernelsize'/,
    suggestion: 'kernelSize',
  },
  {
    name: 'a residual add of mismatched shapes',
    files: { 'main.net': net('  h = conv(x, 4, kernelSize: 3)\n  output y = add(h, x)') },
    line: 4,
    column: 14,
    message: /shapes \[1, 4, 6, 6, 6\] and \[1, 1, 8, 8, 8\] cannot be broadcast/,
  },
  {
    name: 'a missing import',
    files: { 'main.net': `import "nope.net"\n${net('  output y = relu(x)')}` },
    line: 1,
    column: 8,
    message: /imported file 'nope.net' not found/,
  },
  {
    name: 'an import cycle',
    files: {
      'main.net': `import "b.net"\n${net('  output y = B(x)')}`,
      'b.net': 'import "main.net"\nblock B(x: tensor) { return relu(x) }\n',
    },
    line: 1,
    column: 8,
    message: /import cycle: \/mem\/main.net -> \/mem\/b.net -> \/mem\/main.net/,
  },
  {
    name: 'an unclosed brace',
    files: { 'main.net': net('  if true {\n    h = relu(x)').replace(/\}\n$/, '') },
    line: 5,
    column: 1,
    message: /expected '\}' but found the end of the file/,
  },
  {
    name: 'a non-ASCII name',
    files: { 'main.net': net('  é = relu(x)\n  output y = x') },
    line: 3,
    column: 3,
    message: /unexpected character 'é'/,
  },
  {
    name: 'a loop of 10^10 statements',
    files: {
      'main.net': net(
        '  for i in range(100000) {\n    for j in range(100000) { k = i + j }\n  }\n' +
          '  output y = relu(x)',
      ),
    },
    line: 4,
    column: 30,
    message: /more than 1000000 statements/,
  },
  {
    name: 'a block that calls itself',
    files: { 'main.net': `block R(x: tensor) { return R(x) }\n${net('  output y = R(x)')}` },
    line: 1,
    column: 29,
    message: /nested more than 64 deep/,
  },
  {
    name: 'a misspelt name',
    files: { 'main.net': net('  c = 4\n  output y = conv(x, c2, kernelSize: 3)') },
    line: 4,
    column: 22,
    message: /unknown name 'c2'/,
    suggestion: 'c',
  },
  {
    name: 'a misspelt keyword',
    files: { 'main.net': net('  output y = relu(x)').replace('network', 'networkk') },
    line: 1,
    column: 1,
    message: /expected 'import', 'network' or 'block' but found 'networkk'/,
    suggestion: 'network',
  },
  {
    name: 'a kernel larger than the input',
    files: { 'main.net': net('  output y = conv(x, 4, kernelSize: 9)') },
    line: 3,
    column: 14,
    message: /conv would produce size 0 along spatial axis 0/,
  },
];

describe('acceptance: diagnostics of typical mistakes', () => {
  for (const testCase of broken) {
    it(`reports ${testCase.name}`, () => {
      const [first] = diagnosticsOf(testCase.files);
      assert.ok(first?.span, 'the diagnostic has a place');
      assert.deepEqual(
        [first.span.line, first.span.column],
        [testCase.line, testCase.column],
        first.message,
      );
      assert.match(first.message, testCase.message);
      assert.equal(first.suggestion, testCase.suggestion);
    });
  }
});

// docs/language.md promises that "one run reports every syntax error of a file": each mistake
// once, and the lines after it still checked.
describe('acceptance: syntax error recovery', () => {
  it('reports a missing comma once and the errors on later lines', () => {
    const body = '  h = conv(x, 4 kernelSize: 3)\n  h = relu(h))\n  g = [1, 2\n  output y = h';
    const diagnostics = diagnosticsOf({ 'main.net': net(body) });
    assert.deepEqual(
      diagnostics.map((d) => d.span?.line),
      [3, 4, 5],
    );
  });

  it('reports an expression left open at the end of its line on that line', () => {
    const body = '  g = 1 +\n  k = 2\n  output y = relu(x)';
    const [first] = diagnosticsOf({ 'main.net': net(body) });
    assert.equal(first?.span?.line, 3);
  });
});

// A block that calls itself once printed one "called here" note per level, 64 in all.
describe('acceptance: recursion diagnostic', () => {
  it('shows a bounded number of call notes', () => {
    const files = { 'main.net': `block R(x: tensor) { return R(x) }\n${net('  output y = R(x)')}` };
    const [first] = diagnosticsOf(files);
    assert.ok((first?.notes?.length ?? 0) <= 5, `${first?.notes?.length} notes`);
  });
});

describe('acceptance: unterminated string', () => {
  it('says the string is not closed', () => {
    const [first] = diagnosticsOf({ 'main.net': net('  s = "abc\n  output y = relu(x)') });
    assert.match(first?.message ?? '', /unterminated|not closed/);
    assert.deepEqual([first?.span?.line, first?.span?.column], [3, 7], 'the opening quote');
  });
});

// Some Windows editors save a UTF-8 byte order mark at the start of a file.
describe('acceptance: byte order mark', () => {
  it('compiles a file that starts with a BOM', () => {
    const host = memoryHost({ 'main.net': `\uFEFF${net('  output y = relu(x)')}` });
    assert.equal(compileNetFile(host, '/mem/main.net').graph.outputs.length, 1);
  });
});
