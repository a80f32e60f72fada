import assert from 'node:assert/strict';
import { compileNetFile } from '../../src/dsl/compile.js';
import { DslError, type Diagnostic } from '../../src/dsl/diagnostics.js';
import { memoryHost, resolveImport } from '../../src/dsl/modules.js';
import type { Graph } from '../../src/graph/ir.js';

function compile(source: string, set: string[] = [], files: Record<string, string> = {}): Graph {
  return compileNetFile(memoryHost({ 'main.net': source, ...files }), 'main.net', { set }).graph;
}

/** Compiles a file that must fail and returns its diagnostics. */
function diagnostics(source: string, set: string[] = [], files: Record<string, string> = {}) {
  try {
    compile(source, set, files);
  } catch (error) {
    if (error instanceof DslError) return error.diagnostics;
    throw error;
  }
  assert.fail('expected a DslError');
}

function at(diagnostic: Diagnostic): [string, number, number] {
  return [diagnostic.span!.file, diagnostic.span!.line, diagnostic.span!.column];
}

function paramShapes(graph: Graph): string[] {
  return graph.params.map((param) => `${param.name}:${param.shape.join('x')}`);
}

describe('dsl elaboration', () => {
  it('runs loops over lists with an index', () => {
    const source = [
      'network N(channels: ints = [4, 8, 16]) {',
      '  input x: [1, 16, 16]',
      '  for c, i in channels {',
      '    x = conv(x, c, kernelSize: 3, padding: 1, name: "layer{i}.conv")',
      '  }',
      '  output y = x',
      '}',
    ].join('\n');
    const host = memoryHost({ 'main.net': source });
    const graph = compileNetFile(host, 'main.net', { batchSize: 2 }).graph;
    assert.deepEqual(graph.inputs[0]!.value.shape, [2, 1, 16, 16]);
    assert.deepEqual(paramShapes(graph), [
      'layer0.conv.weight:4x1x3x3',
      'layer0.conv.bias:4',
      'layer1.conv.weight:8x4x3x3',
      'layer1.conv.bias:8',
      'layer2.conv.weight:16x8x3x3',
      'layer2.conv.bias:16',
    ]);
    assert.deepEqual(graph.outputs[0]!.value.shape, [2, 16, 16, 16]);
  });

  it('computes arithmetic, ranges and conditionals', () => {
    const source = [
      'network N(depth: int = 3, wide: bool = false) {',
      '  input x: [2, 8]',
      '  width = wide ? 16 : 4 * 2 - 1',
      '  for i in range(depth) {',
      '    if i % 2 == 0 { x = conv(x, width + i, kernelSize: 1, name: "c{i}") }',
      '    else if i == 1 { x = relu(x) }',
      '  }',
      '  output y = x',
      '}',
    ].join('\n');
    assert.deepEqual(paramShapes(compile(source)), [
      'c0.weight:7x2x1',
      'c0.bias:7',
      'c2.weight:9x7x1',
      'c2.bias:9',
    ]);
    const wide = compile(source, ['wide=true', 'depth=1']);
    assert.deepEqual(paramShapes(wide), ['c0.weight:16x2x1', 'c0.bias:16']);
  });

  it('reads shapes and slices lists', () => {
    const graph = compile(
      [
        'network N(inShape: ints = [3, 6, 10]) {',
        '  input x: [...inShape]',
        '  sizes = x.shape[2:]',
        '  output y = linear(flatten(x), product(sizes) // 2 + len(inShape[1:]), name: "fc")',
        '}',
      ].join('\n'),
    );
    assert.deepEqual(paramShapes(graph), ['fc.weight:32x180', 'fc.bias:32']);
  });

  it('calls blocks with scopes and several returns', () => {
    const graph = compile(
      [
        'block Pair(x: tensor, c: int, k: int = 3) {',
        '  a = conv(x, c, kernelSize: k, padding: k // 2, name: "left")',
        '  b = conv(x, c, kernelSize: 1, name: "right")',
        '  return a, b',
        '}',
        'network N() {',
        '  input x: [2, 8, 8]',
        '  a, b = Pair(x, 4, name: "pair")',
        '  output sum = add(a, b)',
        '  output cat = concat([a, b])',
        '}',
      ].join('\n'),
    );
    assert.deepEqual(paramShapes(graph), [
      'pair.left.weight:4x2x3x3',
      'pair.left.bias:4',
      'pair.right.weight:4x2x1x1',
      'pair.right.bias:4',
    ]);
    assert.deepEqual(
      graph.outputs.map((output) => [output.name, output.value.shape]),
      [
        ['sum', [1, 4, 8, 8]],
        ['cat', [1, 8, 8, 8]],
      ],
    );
  });

  it('names unnamed layers that have parameters', () => {
    const graph = compile(
      'network N() {\n  input x: [2, 4]\n  x = relu(conv(conv(x, 3, 1), 5, 1))\n  output y = x\n}',
    );
    assert.deepEqual(paramShapes(graph), [
      'conv0.weight:3x2x1',
      'conv0.bias:3',
      'conv1.weight:5x3x1',
      'conv1.bias:5',
    ]);
    assert.deepEqual(
      graph.nodes.map((node) => node.scope),
      ['conv0', 'conv1', ''],
    );
  });

  it('spreads records and lists into calls', () => {
    const graph = compile(
      [
        'block Act(x: tensor, act: any) {',
        '  kind = typeOf(act) == "list" ? act[0] : act',
        '  args = typeOf(act) == "list" ? act[1] : {}',
        '  if kind == "elu" { return elu(x, ...args) }',
        '  error("unknown activation {kind}")',
        '}',
        'network N(act: any = ["elu", {alpha: 0.5}], sizes: ints = [3, 5]) {',
        '  input input: [8, 4]',
        '  defaults = {kernelSize: 1, bias: false}',
        '  x = conv(input, ...sizes[:1], ...{...defaults, bias: true}, name: "c")',
        '  output output = Act(x, act)',
        '}',
      ].join('\n'),
    );
    assert.deepEqual(paramShapes(graph), ['c.weight:3x8x1', 'c.bias:3']);
    const last = graph.nodes[graph.nodes.length - 1]!;
    assert.equal(last.op, 'elu');
    assert.deepEqual(last.attrs, { alpha: 0.5 });
    assert.deepEqual(
      graph.inputs.map((input) => input.name),
      ['input'],
    );
    assert.deepEqual(
      graph.outputs.map((output) => output.name),
      ['output'],
    );
  });

  it('evaluates built-in functions', () => {
    // Each built-in result becomes the output size of a linear layer.
    const cases: [string, number][] = [
      ['len([1, 2, 3])', 3],
      ['max(2, 7, 4)', 7],
      ['min([5, 3])', 3],
      ['sum([1, 2, 3])', 6],
      ['sum([]) + 1', 1],
      ['product([2, 3])', 6],
      ['abs(-4)', 4],
      ['int(3.9)', 3],
      ['sorted([3, 1, 2])[0]', 1],
      ['len(range(2, 11, 3))', 3],
      ['len("abc" + "de")', 5],
      ['typeOf({a: 1}) == "record" ? 1 : 2', 1],
      ['{a: 2}.a ** 3', 8],
      ['"a" in {a: 1} ? 4 : 5', 4],
      ['-7 // 2 + 10', 6],
      ['-7 % 3', 2],
    ];
    for (const [expression, expected] of cases) {
      const graph = compile(
        `network N() {\n  input x: [2]\n  output y = linear(x, ${expression})\n}`,
      );
      assert.deepEqual(graph.outputs[0]!.value.shape, [1, expected], expression);
    }
  });

  it('loops over the characters of a string', () => {
    const source = [
      'network N(order: str = "ab") {',
      '  input x: [2, 4]',
      '  for letter in order { x = conv(x, 2, 1, name: letter) }',
      '  output y = x',
      '}',
    ].join('\n');
    assert.deepEqual(paramShapes(compile(source)), [
      'a.weight:2x2x1',
      'a.bias:2',
      'b.weight:2x2x1',
      'b.bias:2',
    ]);
  });

  describe('imports', () => {
    const blocks = 'block Head(x: tensor, n: int) {\n  return linear(flatten(x), n, name: "fc")\n}';
    it('resolves imports relative to the importing file', () => {
      const files = {
        'lib/blocks.net': blocks,
        'lib/all.net': 'import "blocks.net"',
        'main.net':
          'import "lib/all.net"\nnetwork N() {\n  input x: [2, 3]\n  output y = Head(x, 4)\n}',
      };
      const graph = compileNetFile(memoryHost(files), 'main.net').graph;
      assert.deepEqual(paramShapes(graph), ['fc.weight:4x6', 'fc.bias:4']);
    });

    it('joins import paths', () => {
      // [importing file, import, resolved path]
      const cases: [string, string, string][] = [
        ['a/b.net', 'c.net', 'a/c.net'],
        ['a/b.net', '../c.net', 'c.net'],
        ['a/b.net', '../../c.net', '../c.net'],
        ['b.net', 'lib/./c.net', 'lib/c.net'],
        ['/abs/b.net', './c.net', '/abs/c.net'],
        ['a.net', '/abs/c.net', '/abs/c.net'],
        ['C:\\models\\b.net', 'c.net', 'C:/models/c.net'],
      ];
      for (const [from, spec, expected] of cases) {
        assert.equal(resolveImport(from, spec), expected, `${from} + ${spec}`);
      }
    });

    it('reports import cycles with the chain', () => {
      const files = {
        'a.net': 'import "b.net"',
        'b.net': 'import "c.net"',
        'c.net': 'import "a.net"',
      };
      const found = diagnostics('import "a.net"', [], files);
      assert.deepEqual(
        found.map((d) => [at(d), d.message]),
        [[['c.net', 1, 8], 'import cycle: a.net -> b.net -> c.net -> a.net']],
      );
    });

    it('reports a missing import', () => {
      const found = diagnostics('\nimport "lib/none.net"');
      assert.deepEqual(
        found.map((d) => [at(d), d.message]),
        [
          [
            ['main.net', 2, 8],
            "imported file 'lib/none.net' not found (looked for 'lib/none.net', relative to 'main.net')",
          ],
        ],
      );
    });

    it('reports a name declared in two files', () => {
      const found = diagnostics(`import "b.net"\n${blocks}\nnetwork N() {}`, [], {
        'b.net': blocks,
      });
      assert.equal(found.length, 1);
      assert.deepEqual(at(found[0]!), ['main.net', 2, 7]);
      assert.equal(
        found[0]!.message,
        "block 'Head' is already declared at b.net:1; rename one of them",
      );
    });
  });

  describe('errors', () => {
    const net = (line: string) =>
      `network N(k: int = 3) {\n  input x: [2, 8, 8]\n  ${line}\n  output y = x\n}`;
    // [name, source, settings, [line, column], message, suggestion]
    const cases: [string, string, string[], [number, number], string, string?][] = [
      ['unknown layer', net('x = conv2(x, 4)'), [], [3, 7], "unknown layer 'conv2'", 'conv'],
      [
        'unknown argument',
        net('x = conv(x, 4, kernelSze: 3)'),
        [],
        [3, 18],
        'conv has no argument',
        'kernelSize',
      ],
      [
        'unknown variable',
        net('x = conv(x, 4, kernelSize: kk)'),
        [],
        [3, 30],
        "unknown name 'kk'",
        'k',
      ],
      [
        'bad argument value',
        net('x = conv(x, 4, kernelSize: 0)'),
        [],
        [3, 18],
        "conv: argument 'kernelSize' must be >= 1, got 0",
      ],
      ['missing argument', net('x = linear(x)'), [], [3, 7], 'linear: missing required argument'],
      ['too many arguments', net('x = relu(x, 1, 2, 3)'), [], [3, 15], 'relu takes at most'],
      [
        'too many tensors',
        net('x = conv(x, x)'),
        [],
        [3, 15],
        'conv takes 1 input tensor but got 2',
      ],
      [
        'type error',
        net('x = conv(x, "a" * 2)'),
        [],
        [3, 19],
        "'*' needs two numbers but got str and int",
      ],
      [
        'division by zero',
        net('x = conv(x, 4 // 0, kernelSize: 1)'),
        [],
        [3, 17],
        "division by zero in '//'",
      ],
      [
        'index out of range',
        net('x = conv(x, [1, 2][5], kernelSize: 1)'),
        [],
        [3, 22],
        'index 5 is out of range for length 2',
      ],
      ['unknown setting', net('x = x'), ['kk=4'], [1, 1], "network 'N' has no parameter 'kk'", 'k'],
      [
        'setting of the wrong type',
        net('x = x'),
        ['k=[1]'],
        [1, 3],
        "parameter 'k': expected int but got list [1]",
      ],
      [
        'loop over a number',
        net('for c in 3 { }'),
        [],
        [3, 12],
        "'for' needs a list, a string or range() but got int",
      ],
      ['return in a network', net('return x'), [], [3, 3], "'return' is allowed in blocks only"],
      ['output declared twice', net('output y = x'), [], [4, 10], "output 'y' is declared twice"],
      [
        'wrong number of names',
        net('a, b = conv(x, 4, 1)'),
        [],
        [3, 3],
        '2 names on the left but the right gives one tensor',
      ],
      [
        'error() call',
        net('error("channels must be even, got {k}")'),
        [],
        [3, 3],
        'channels must be even, got 3',
      ],
      [
        'huge range',
        net('for i in range(1000000000) { }'),
        [],
        [3, 12],
        'lists are limited to 100000',
      ],
      [
        'unknown record field',
        net('r = {alpha: 1}\n  x = elu(x, r.alpah)'),
        [],
        [4, 16],
        "the record has no field 'alpah'",
        'alpha',
      ],
      [
        'spread of a number',
        net('x = conv(x, ...k)'),
        [],
        [3, 18],
        "'...' needs a list or a record but got int",
      ],
      [
        'unknown type',
        'block B(x: tensr) {\n  return x\n}\n' + net('x = B(x)'),
        [],
        [1, 12],
        "unknown type 'tensr'",
        'tensor',
      ],
      [
        'unbounded recursion',
        'block B(x: tensor) {\n  return B(x)\n}\n' + net('x = B(x)'),
        [],
        [2, 10],
        'blocks are nested more than 64 deep',
      ],
    ];
    for (const [name, source, set, [line, column], message, suggestion] of cases) {
      it(`reports ${name}`, () => {
        const [diagnostic, ...rest] = diagnostics(source, set);
        assert.equal(rest.length, 0);
        assert.deepEqual([diagnostic!.span!.line, diagnostic!.span!.column], [line, column]);
        assert.ok(diagnostic!.message.includes(message), diagnostic!.message);
        assert.equal(diagnostic!.suggestion, suggestion);
      });
    }
  });

  describe('several elaboration errors', () => {
    const net = (lines: string[]) =>
      ['network N() {', '  input x: [2, 8, 8]', ...lines.map((line) => `  ${line}`), '}'].join(
        '\n',
      );
    // [name, statements, [line, column, message] of each diagnostic]
    const cases: [string, string[], [number, number, string][]][] = [
      [
        'two independent mistakes',
        ['a = conv(x, 4, kernelSze: 3)', 'b = relu(zz)', 'output y = x'],
        [
          [3, 18, 'conv has no argument'],
          [4, 12, "unknown name 'zz'"],
        ],
      ],
      [
        'a use of a failed name',
        ['h = conv(x, 4, kernelSze: 3)', 'g = relu(h)', 'output y = add(g, h)'],
        [[3, 18, 'conv has no argument']],
      ],
      [
        'a loop with a failing body',
        ['for c in [4, 8] {', '  x = cnov(x, c)', '}', 'k = 1 / 0', 'output y = x'],
        [
          [4, 9, "unknown layer 'cnov'"],
          [6, 9, 'division by zero'],
        ],
      ],
    ];
    for (const [name, lines, expected] of cases) {
      it(`reports ${name}`, () => {
        const got = diagnostics(net(lines));
        assert.deepEqual(
          got.map((d) => [d.span!.line, d.span!.column]),
          expected.map(([line, column]) => [line, column]),
        );
        got.forEach((diagnostic, i) => {
          assert.ok(diagnostic.message.includes(expected[i]![2]), diagnostic.message);
        });
      });
    }
  });

  describe('network choice', () => {
    const two = 'network A() {\n  input x: [2]\n  output y = x\n}\nnetwork B() {\n}\n';
    // [name, source, network option, message, suggestion]
    const cases: [string, string, string | undefined, string, string?][] = [
      [
        'an empty file',
        '',
        undefined,
        "the file declares no network; add one with 'network Name(...) { ... }'",
      ],
      [
        'a file of blocks only',
        'block B(x: tensor) {\n  return x\n}\n',
        undefined,
        "the file declares no network; add one with 'network Name(...) { ... }'",
      ],
      [
        'two networks and no choice',
        two,
        undefined,
        'the file declares networks A, B; choose one with the network option ' +
          '(--network on the command line)',
      ],
      ['an unknown network', two, 'Bb', "the file has no network 'Bb'; it declares A, B", 'B'],
    ];
    for (const [name, source, network, message, suggestion] of cases) {
      it(`reports ${name} at the file`, () => {
        const host = memoryHost({ 'main.net': source });
        let thrown: unknown;
        try {
          compileNetFile(host, 'main.net', network === undefined ? {} : { network });
        } catch (error) {
          thrown = error;
        }
        assert.ok(thrown instanceof DslError, String(thrown));
        const [diagnostic, ...rest] = thrown.diagnostics;
        assert.equal(rest.length, 0);
        assert.deepEqual(at(diagnostic!), ['main.net', 1, 1]);
        assert.equal(diagnostic!.message, message);
        assert.equal(diagnostic!.suggestion, suggestion);
      });
    }
  });

  describe('recursion', () => {
    // [name, blocks, call in the network, message, notes as line:column]
    const cases: [string, string, string, string, string[]][] = [
      [
        'a block that calls itself',
        'block R(x: tensor) {\n  return R(x)\n}\n',
        'R(x)',
        'blocks are nested more than 64 deep, because the calls R -> R repeat without end',
        ['2:10', '6:14'],
      ],
      [
        'two blocks that call each other',
        'block A(x: tensor) {\n  return B(x)\n}\nblock B(x: tensor) {\n  return A(x)\n}\n',
        'A(x)',
        'blocks are nested more than 64 deep, because the calls A -> B -> A repeat without end',
        ['2:10', '5:10', '9:14'],
      ],
    ];
    for (const [name, blocks, call, message, notes] of cases) {
      it(`reports ${name} once`, () => {
        const source = `${blocks}network N() {\n  input x: [2, 4]\n  output y = ${call}\n}`;
        const [diagnostic, ...rest] = diagnostics(source);
        assert.equal(rest.length, 0);
        assert.equal(diagnostic!.message, message);
        const places = diagnostic!.notes!.map((note) => `${note.span.line}:${note.span.column}`);
        assert.deepEqual([...places].sort(), [...notes].sort());
      });
    }
  });

  it('rejects a call of a network', () => {
    const source = 'import "m.net"\nnetwork N() {\n  input x: [2]\n  output y = M(x)\n}';
    const [diagnostic] = diagnostics(source, [], { 'm.net': 'network M() {\n}' });
    assert.deepEqual(at(diagnostic!), ['main.net', 4, 14]);
    assert.equal(
      diagnostic!.message,
      "'M' is a network and cannot be called; declare the shared part as a block",
    );
  });

  it('shows both shapes and their producers for a shape mismatch', () => {
    const source = [
      'network N() {',
      '  input x: [1, 8, 8]',
      '  a = conv(x, 4, kernelSize: 3, name: "a")',
      '  b = conv(x, 4, kernelSize: 3, padding: 1, name: "b")',
      '  output y = add(a, b)',
      '}',
    ].join('\n');
    const [diagnostic] = diagnostics(source);
    assert.deepEqual(at(diagnostic!), ['main.net', 5, 14]);
    assert.ok(diagnostic!.message.includes('[1, 4, 6, 6]'), diagnostic!.message);
    assert.ok(diagnostic!.message.includes('[1, 4, 8, 8]'), diagnostic!.message);
    assert.deepEqual(
      diagnostic!.notes!.map((note) => [note.span.line, note.span.column, note.message]),
      [
        [3, 7, "input 1 has shape [1, 4, 6, 6], produced by conv 'a'"],
        [4, 7, "input 2 has shape [1, 4, 8, 8], produced by conv 'b'"],
      ],
    );
  });

  it('formats a diagnostic with the source line and a caret', () => {
    try {
      compile('network N() {\n  input x: [2, 4]\n  output y = relu(conv3(x, 4))\n}');
      assert.fail('expected a DslError');
    } catch (error) {
      assert.ok(error instanceof DslError);
      assert.equal(
        error.message,
        [
          "main.net:3:19: error: unknown layer 'conv3'",
          ' 3 |   output y = relu(conv3(x, 4))',
          '   |                   ^^^^^',
          "  did you mean 'conv'?",
          '',
          '1 error',
        ].join('\n'),
      );
    }
  });
});
