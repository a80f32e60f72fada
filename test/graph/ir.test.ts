import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { GraphBuilder } from '../../src/graph/builder.js';
import { canonicalJSON, graphsEqual } from '../../src/graph/canonical.js';
import { ShapeError } from '../../src/graph/errors.js';
import { Graph } from '../../src/graph/ir.js';
import { layer } from '../../src/graph/layers.js';
import { closestName, editDistance } from '../../src/graph/suggest.js';
import { summarise } from '../../src/graph/summary.js';

function convNet(options: { kernelSize?: number; paramsFirst?: boolean } = {}) {
  const builder = new GraphBuilder();
  let x = builder.input('input', [2, 1, 6, 6]);
  if (options.paramsFirst) {
    // The same params created before the nodes that use them, in another order.
    builder.graph.addParam('fc.bias', [3], { kind: 'uniform', low: -0.125, high: 0.125 });
  }
  x = layer(builder, 'conv', x, { outChannels: 2, kernelSize: options.kernelSize ?? 3 }, 'conv');
  x = layer(builder, 'relu', x, {}, 'act');
  x = layer(builder, 'flatten', x, {}, 'flatten');
  const weight = builder.param('fc.weight', [3, x.shape[1]], { kind: 'constant', value: 0 });
  const bias =
    builder.graph.params.find((param) => param.name === 'fc.bias') ??
    builder.param('fc.bias', [3], { kind: 'uniform', low: -0.125, high: 0.125 });
  builder.scope('fc', () => builder.op('linear', [x, weight, bias], {}));
  builder.output('output', builder.graph.nodes[builder.graph.nodes.length - 1].outputs[0]);
  return builder.graph;
}

describe('graph IR', () => {
  it('equal builds compare equal', () => {
    assert.ok(graphsEqual(convNet(), convNet()));
  });

  it('param creation order does not matter', () => {
    assert.equal(canonicalJSON(convNet({ paramsFirst: true })), canonicalJSON(convNet()));
  });

  it('a different kernel compares unequal', () => {
    assert.ok(!graphsEqual(convNet(), convNet({ kernelSize: 1 })));
  });

  it('clone keeps structure and separates appended nodes', () => {
    const graph = convNet();
    const copy = graph.clone();
    assert.ok(graphsEqual(graph, copy));
    const output = copy.output('output')!;
    copy.addNode('scale', [output], { factor: 2 }, 'loss');
    assert.equal(copy.nodes.length, graph.nodes.length + 1);
    assert.notEqual(copy.nodes[0].inputs[0], graph.nodes[0].inputs[0]);
    assert.equal(copy.nodes[0].outputs[0].producer, copy.nodes[0]);
    assert.ok(
      copy.nodes.every((node, i) => i >= graph.nodes.length || node.id === graph.nodes[i].id),
    );
  });

  it('rejects values of another graph', () => {
    const graph = convNet();
    const copy = graph.clone();
    const original = graph.output('output')!;
    assert.throws(() => copy.addNode('relu', [original], {}, 'head'), /of another graph/);
    assert.throws(() => copy.setOutput('extra', original), /of another graph/);
  });

  it('nodes come in topological order', () => {
    const graph = convNet();
    const seen = new Set([...graph.inputs.map((input) => input.value), ...graph.stateValues()]);
    for (const node of graph.nodes) {
      for (const input of node.inputs) assert.ok(seen.has(input), `${node.op} input defined`);
      for (const output of node.outputs) seen.add(output);
    }
  });

  it('node ids stay unique after removal', () => {
    const graph = convNet();
    const removed = graph.nodes.pop()!;
    const [output] = graph.addNode('relu', [graph.nodes[0].outputs[0]], {}, 'extra');
    assert.notEqual(output.producer!.id, removed.id);
    assert.equal(new Set(graph.nodes.map((node) => node.id)).size, graph.nodes.length);
  });

  it('outputs take the first input dtype', () => {
    const graph = new Graph();
    const x = graph.addInput('x', [2, 3], 'i32');
    assert.equal(graph.addNode('reshape', [x], { shape: [6] })[0].dtype, 'i32');
  });

  it('rejects a repeated state name', () => {
    const graph = new Graph();
    graph.addParam('w', [2], { kind: 'constant', value: 0 });
    assert.throws(() => graph.addBuffer('w', [2], { kind: 'constant', value: 0 }), /already used/);
  });

  it('rejects a repeated input name', () => {
    const graph = new Graph();
    graph.addInput('x', [1]);
    assert.throws(() => graph.addInput('x', [2]), /already exists/);
  });

  for (const shape of [[0, 3], [2, -1], [1.5]]) {
    it(`rejects input shape [${shape.join(', ')}]`, () => {
      assert.throws(() => new Graph().addInput('x', shape), ShapeError);
    });
  }

  it('rejects a constant of the wrong length', () => {
    assert.throws(() => new Graph().addConstant(new Float32Array(3), [2, 2]), /needs 4/);
  });
});

describe('graph summary', () => {
  it('counts params, buffers and FLOPs per sample', () => {
    const builder = new GraphBuilder();
    let x = builder.input('input', [4, 1, 4, 4]);
    x = layer(builder, 'conv', x, { outChannels: 2, kernelSize: 3 }, 'conv');
    x = layer(builder, 'batchNorm', x, {}, 'bn');
    x = layer(builder, 'flatten', x, {}, 'flatten');
    layer(builder, 'linear', x, { outFeatures: 3 }, 'fc');
    const summary = summarise(builder.graph);
    // conv 2*1*3*3 + 2, bn 2 + 2, fc 3*8 + 3.
    assert.equal(summary.totalParams, 20 + 4 + 27);
    assert.equal(summary.totalBuffers, 2 + 2 + 1);
    assert.equal(summary.batchSize, 4);
    // Per sample: conv 2*9*8 + 8, bn 6*8, flatten 0, fc 2*8*3 + 3.
    assert.equal(summary.flopsPerSample, 152 + 48 + 0 + 51);
    assert.deepEqual(
      summary.rows.map((row) => row.scope),
      ['conv', 'bn', 'flatten', 'fc'],
    );
    assert.deepEqual(
      summary.rows.map((row) => row.params),
      [20, 4, 0, 27],
    );
    assert.deepEqual(summary.rows[3].outputShape, [4, 3]);
  });

  it('merges nodes of one layer into one row', () => {
    const builder = new GraphBuilder();
    layer(
      builder,
      'multiHeadSelfAttention',
      builder.input('x', [1, 4, 8]),
      { numHeads: 2 },
      'attn',
    );
    const rows = summarise(builder.graph).rows;
    assert.equal(rows.length, 1);
    assert.ok(rows[0].ops.includes('matmul'));
    assert.ok(rows[0].ops.includes('softmax'));
    assert.equal(rows[0].params, 3 * 8 * 8 + 3 * 8 + 8 * 8 + 8);
    assert.ok(summarise(builder.graph, { perNode: true }).rows.length > 1);
  });
});

describe('name suggestions', () => {
  const CASES: [string, string[], string | undefined][] = [
    ['chanels', ['channels', 'kernelSize'], 'channels'],
    ['kernel_size', ['kernelSize', 'stride'], 'kernelSize'],
    ['BatchNorm', ['batchNorm', 'groupNorm'], 'batchNorm'],
    ['strdie', ['stride', 'padding'], 'stride'],
    ['xyz', ['channels', 'stride'], undefined],
    ['xavier', ['xavierUniform', 'normal'], 'xavierUniform'],
    ['kaiming', ['kaimingNormalFanOut', 'kaimingNormalFanIn'], 'kaimingNormalFanIn'],
    ['xa', ['xavierUniform'], undefined],
    ['', ['a'], undefined],
  ];
  for (const [name, candidates, expected] of CASES) {
    it(`suggests ${String(expected)} for '${name}'`, () => {
      assert.equal(closestName(name, candidates), expected);
    });
  }

  it('counts a transposition as one edit', () => {
    assert.equal(editDistance('strdie', 'stride'), 1);
    assert.equal(editDistance('abc', 'abc'), 0);
    assert.equal(editDistance('abc', ''), 3);
  });
});
