import assert from 'node:assert/strict';
import type { Expr, Stmt } from '../../src/dsl/ast.js';
import { parseNet } from '../../src/dsl/parse.js';

/** Parses a file that must be valid and returns the body of its first declaration. */
function body(source: string): Stmt[] {
  const result = parseNet(source, 'test.net');
  assert.deepEqual(result.diagnostics, []);
  return result.value!.decls[0]!.body;
}

function assignedValue(source: string): Expr {
  const stmt = body(`network A() {\n  v = ${source}\n}`)[0]!;
  assert.equal(stmt.kind, 'assign');
  return (stmt as Extract<Stmt, { kind: 'assign' }>).value;
}

/** Writes an expression back with explicit brackets, to check precedence. */
function show(expr: Expr): string {
  switch (expr.kind) {
    case 'number':
    case 'bool':
      return String(expr.value);
    case 'name':
      return expr.name;
    case 'binary':
      return `(${show(expr.left)} ${expr.op} ${show(expr.right)})`;
    case 'unary':
      return `(${expr.op} ${show(expr.operand)})`;
    case 'conditional':
      return `(${show(expr.condition)} ? ${show(expr.then)} : ${show(expr.otherwise)})`;
    case 'call':
      return `${show(expr.callee)}(${expr.args.map((a) => (a.spread ? '...' : a.name ? `${a.name}: ` : '') + show(a.value)).join(', ')})`;
    case 'index':
      return `${show(expr.target)}[${show(expr.index)}]`;
    case 'slice':
      return `${show(expr.target)}[${expr.start ? show(expr.start) : ''}:${expr.end ? show(expr.end) : ''}]`;
    case 'member':
      return `${show(expr.target)}.${expr.name}`;
    case 'list':
      return `[${expr.items.map((item) => (item.spread ? '...' : '') + show(item.value)).join(', ')}]`;
    case 'string':
      return expr.parts
        .map((part) => (typeof part === 'string' ? part : `{${show(part)}}`))
        .join('');
    case 'record':
      return `{${expr.fields.map((field) => (field.spread ? '...' : `${field.name}: `) + show(field.value)).join(', ')}}`;
    case 'none':
      return 'none';
  }
}

describe('dsl parser', () => {
  describe('expressions', () => {
    const cases: [string, string][] = [
      ['1 + 2 * 3', '(1 + (2 * 3))'],
      ['(1 + 2) * 3', '((1 + 2) * 3)'],
      ['10 - 4 - 3', '((10 - 4) - 3)'],
      ['2 ** 3 ** 2', '(2 ** (3 ** 2))'],
      ['-2 ** 2', '(- (2 ** 2))'],
      ['a // 2 % 3', '((a // 2) % 3)'],
      ['a < b and not c or d', '(((a < b) and (not c)) or d)'],
      ['x in [1, 2]', '(x in [1, 2])'],
      ['big ? 5 : 3', '(big ? 5 : 3)'],
      ['a ? b : c ? d : e', '(a ? b : (c ? d : e))'],
      ['conv(x, 8, kernelSize: 3)', 'conv(x, 8, kernelSize: 3)'],
      ['relu(conv(x, c))', 'relu(conv(x, c))'],
      ['x.shape[1]', 'x.shape[1]'],
      ['channels[1:]', 'channels[1:]'],
      ['channels[:-1]', 'channels[:(- 1)]'],
      ['[1, ...shape]', '[1, ...shape]'],
      ['"layer{i + 1}.conv"', 'layer{(i + 1)}.conv'],
      ['"a{{b}}"', 'a{b}'],
      ['{alpha: 0.5, inplace: true}', '{alpha: 0.5, inplace: true}'],
      ['elu(x, ...args, alpha: 1)', 'elu(x, ...args, alpha: 1)'],
    ];
    for (const [source, expected] of cases) {
      it(`parses ${source}`, () => assert.equal(show(assignedValue(source)), expected));
    }
  });

  it('reads number literals', () => {
    const value = assignedValue('[3, 0.5, 1e-3, 2.]');
    assert.equal(value.kind, 'list');
    const numbers = (value as Extract<Expr, { kind: 'list' }>).items.map((item) => item.value);
    assert.deepEqual(
      numbers.map((n) => (n.kind === 'number' ? [n.value, n.isInteger] : null)),
      [
        [3, true],
        [0.5, false],
        [0.001, false],
        [2, false],
      ],
    );
  });

  it('parses declarations, statements and positions', () => {
    const source = [
      'import "blocks.net"',
      '# a comment line',
      'block Res(x: tensor, ch: int?, stride: int = 1) {',
      '  return relu(x)',
      '}',
      'network N(inShape: ints) {',
      '  input x: [...inShape]',
      '  for c, i in [4, 8] { x = conv(x, c); }',
      '  if i > 0 { x = relu(x) } else if i < 0 { x = x } else { }',
      '  scope "head" { a, b = split(x, 2) }',
      '  output y = a',
      '}',
    ].join('\n');
    const result = parseNet(source, 'n.net');
    assert.deepEqual(result.diagnostics, []);
    const file = result.value!;
    assert.deepEqual(
      file.imports.map((item) => item.path),
      ['blocks.net'],
    );
    assert.deepEqual(
      file.decls.map((decl) => [decl.kind, decl.name]),
      [
        ['block', 'Res'],
        ['network', 'N'],
      ],
    );
    const params = file.decls[0]!.params;
    assert.deepEqual(
      params.map((p) => [p.name, p.type?.name, p.type?.optional, p.default !== undefined]),
      [
        ['x', 'tensor', false, false],
        ['ch', 'int', true, false],
        ['stride', 'int', false, true],
      ],
    );
    const statements = file.decls[1]!.body;
    assert.deepEqual(
      statements.map((s) => s.kind),
      ['input', 'for', 'if', 'scope', 'output'],
    );
    assert.deepEqual(statements[0]!.span, { file: 'n.net', line: 7, column: 9, length: 1 });
    const branch = statements[2] as Extract<Stmt, { kind: 'if' }>;
    assert.equal(branch.otherwise[0]!.kind, 'if');
  });

  describe('broken inputs', () => {
    // [source, [line, column, message] of each diagnostic]
    const cases: [string, string, [number, number, string][]][] = [
      [
        'missing parenthesis',
        'network A() {\n  x = conv(x, 8\n}',
        [[2, 16, "expected ')' but found the end of the line"]],
      ],
      [
        'double equals sign',
        'network A() {\n  x = = 3\n}',
        [[2, 7, "expected a value but found '='"]],
      ],
      ['unclosed parameters', 'network A( {\n}', [[1, 12, "expected ')' but found '{'"]]],
      [
        'misspelled keyword',
        'netwrk A() {}',
        [[1, 1, "expected 'import', 'network' or 'block' but found 'netwrk'"]],
      ],
      [
        'import without quotes',
        'import blocks.net',
        [[1, 8, "expected a string but found 'blocks'"]],
      ],
      [
        'unclosed body',
        'network A() {\n  x = 1\n',
        [[3, 1, "expected '}' but found the end of the file"]],
      ],
      ['unknown character', 'network A() {\n  x = 3 $ 4\n}', [[2, 9, "unexpected character '$'"]]],
      [
        'loop without a name',
        'network A() {\n  for in channels { }\n}',
        [[2, 7, "expected a name but found 'in'"]],
      ],
      [
        'empty index',
        'network A() {\n  x = a[]\n}',
        [[2, 8, "expected an index between '[' and ']'"]],
      ],
      [
        'broken interpolation',
        'network A() {\n  x = "layer{i +}"\n}',
        [[2, 17, "expected a value but found '}'"]],
      ],
      [
        'unclosed interpolation',
        'network A() {\n  x = "layer{i"\n}',
        [[2, 13, "unclosed '{' in a string: close it with '}' or write '{{' for a brace"]],
      ],
      [
        'invalid escape',
        'network A() {\n  x = "a\\qb"\n}',
        [[2, 9, "invalid escape '\\q' in a string"]],
      ],
      [
        'brackets nested too deep',
        `network A() {\n  x = ${'('.repeat(120)}1${')'.repeat(120)}\n}`,
        [
          [
            2,
            106,
            'brackets nest more than 100 levels deep here; split the expression or the block',
          ],
        ],
      ],
      [
        'several errors in one pass',
        'network A() {\n  x = conv(x, 8\n  y = relu(x)\n  z = (1 + \n}\nblock B( { }',
        [
          [2, 16, "expected ')' but found the end of the line"],
          [4, 11, "expected a value after '+' but found the end of the line"],
          [6, 10, "expected ')' but found '{'"],
        ],
      ],
      [
        'missing comma, extra parenthesis and open list',
        'network A() {\n  h = conv(x, 4 kernelSize: 3)\n  h = relu(h))\n  g = [1, 2\n  output y = h\n}',
        [
          [2, 17, "expected ')' but found 'kernelSize'"],
          [3, 14, "unmatched ')': it closes no open '('"],
          [4, 12, "expected ']' but found the end of the line"],
        ],
      ],
      [
        'expression open at a line end',
        'network A() {\n  g = 1 +\n  k = 2\n  m = k *\n}',
        [
          [2, 10, "expected a value after '+' but found the end of the line"],
          [4, 10, "expected a value after '*' but found the end of the line"],
        ],
      ],
      [
        'unterminated string',
        'network A() {\n  s = "abc\n  k = 2, 3\n}',
        [
          [
            2,
            7,
            `unterminated string: a string ends on the line where it starts; add the closing '"'`,
          ],
          [3, 8, "expected '}' but found ','"],
        ],
      ],
      [
        'missing brace before the next network',
        'network A() {\n  x = 1\nnetwork B() {\n  y = = 2\n}',
        [
          [3, 1, "expected '}' but found 'network'"],
          [4, 7, "expected a value but found '='"],
        ],
      ],
      [
        'broken loop header',
        'network A() {\n  for i in range(3 {\n    h = relu(x)\n  }\n  k = [1 2]\n}',
        [
          [2, 20, "expected ')' but found '{'"],
          [5, 10, "expected ']' but found '2'"],
        ],
      ],
      [
        'broken declaration header',
        'network A(x: int = ) {\n  y = 1\n}\nnetwork B() {\n  z = = 1\n}',
        [
          [1, 20, "expected a value but found ')'"],
          [5, 7, "expected a value but found '='"],
        ],
      ],
      [
        'closing brace too many',
        'network A() {\n  x = 1\n  }\n  y = 2\n}\nnetwork B() {\n  z = = 1\n}',
        [
          [4, 3, "expected 'import', 'network' or 'block' but found 'y'"],
          [7, 7, "expected a value but found '='"],
        ],
      ],
      [
        'error after a byte order mark',
        '\uFEFFnetwork A( {\n}',
        [[1, 12, "expected ')' but found '{'"]],
      ],
    ];
    for (const [name, source, expected] of cases) {
      it(`reports ${name}`, () => {
        const result = parseNet(source, 'bad.net');
        assert.equal(result.value, undefined);
        const got = result.diagnostics.map((d) => [d.span!.line, d.span!.column, d.message]);
        assert.deepEqual(got, expected);
      });
    }
  });

  it('splits syntax errors into expected and found', () => {
    const [diagnostic] = parseNet('network A() {\n  x = conv(x, 8 }', 'bad.net').diagnostics;
    assert.equal(diagnostic!.expected, "')'");
    assert.equal(diagnostic!.found, "'}'");
    assert.equal(diagnostic!.span!.file, 'bad.net');
  });

  it('reports an expression left open at the end of the line', () => {
    const [diagnostic] = parseNet('network A() {\n  g = 1 +\n  k = 2\n}', 'bad.net').diagnostics;
    assert.equal(diagnostic!.expected, "a value after '+'");
    assert.equal(diagnostic!.found, 'the end of the line');
  });

  it('skips a byte order mark', () => {
    const result = parseNet('\uFEFFnetwork A() {\n  x = 1\n}\n', 'bom.net');
    assert.deepEqual(result.diagnostics, []);
    assert.deepEqual(result.value!.decls[0]!.span, {
      file: 'bom.net',
      line: 1,
      column: 9,
      length: 1,
    });
  });

  it('suggests a misspelled keyword', () => {
    const [diagnostic] = parseNet('netwrk A() {}', 'bad.net').diagnostics;
    assert.equal(diagnostic!.suggestion, 'network');
  });
});
