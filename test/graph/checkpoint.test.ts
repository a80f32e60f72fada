import assert from 'node:assert/strict';
import { appendBackward } from '../../src/graph/autodiff.js';
import { checkpointGraph, estimatePeakBytes } from '../../src/graph/checkpoint.js';
import type { Node } from '../../src/graph/ir.js';
import { deepCnn } from '../helpers/deep-cnn.js';

/** Builds deepCnn's training graph with its forward node count and read-back values. */
function training(options: Partial<Parameters<typeof deepCnn>[0]> = {}) {
  const { graph, loss } = deepCnn({ depth: 6, size: 8, channels: 4, ...options });
  const backward = appendBackward(graph, loss);
  const keep = [backward.loss, ...backward.gradients.values()];
  return { graph: backward.graph, forwardCount: graph.nodes.length, keep };
}

function recomputed(nodes: readonly Node[]): Node[] {
  return nodes.filter((node) => node.scope.endsWith('.recompute'));
}

/** True when every node's inputs are produced before it (or are not activations). */
function topological(nodes: readonly Node[]): boolean {
  const seen = new Set<number>();
  for (const node of nodes) {
    for (const input of node.inputs) {
      if (input.kind === 'activation' && !seen.has(input.id)) return false;
    }
    for (const output of node.outputs) seen.add(output.id);
  }
  return true;
}

/** Number of forward activations that nodes after the forward pass read. */
function forwardValuesReadLater(nodes: readonly Node[], forwardCount: number): number {
  const forward = new Set(nodes.slice(0, forwardCount).flatMap((node) => node.outputs));
  const read = new Set(nodes.slice(forwardCount).flatMap((node) => node.inputs));
  return [...read].filter((value) => forward.has(value)).length;
}

describe('gradient checkpointing', () => {
  it('leaves the graph alone with none', () => {
    const { graph, forwardCount, keep } = training();
    const before = graph.nodes.map((node) => node.id);
    const result = checkpointGraph(graph, forwardCount, keep, 'none');
    assert.deepEqual(
      graph.nodes.map((node) => node.id),
      before,
    );
    assert.equal(result.segments, 1);
    assert.equal(result.recomputedNodes, 0);
  });

  const segmentCases = [2, 3, 6];
  for (const segments of segmentCases) {
    it(`recomputes all but the last of ${segments} segments`, () => {
      const { graph, forwardCount, keep } = training();
      const peakBefore = estimatePeakBytes(graph);
      const keptBefore = forwardValuesReadLater(graph.nodes, forwardCount);
      const result = checkpointGraph(graph, forwardCount, keep, { segments });
      const copies = recomputed(graph.nodes);
      assert.equal(result.segments, segments);
      assert.equal(result.recomputedNodes, copies.length);
      assert.ok(copies.length > 0);
      // Copies sit in the backward pass, after every forward node.
      assert.ok(graph.nodes.slice(0, forwardCount).every((node) => !copies.includes(node)));
      assert.ok(topological(graph.nodes));
      assert.ok(estimatePeakBytes(graph) < peakBefore);
      // Fewer forward activations stay alive until the backward pass.
      assert.ok(forwardValuesReadLater(graph.nodes, forwardCount) < keptBefore);
    });
  }

  it('reads recomputed values in the backward pass', () => {
    const { graph, forwardCount, keep } = training();
    const forwardReluOutputs = new Set(
      graph.nodes
        .slice(0, forwardCount)
        .filter((node) => node.op === 'relu')
        .map((node) => node.outputs[0]!.id),
    );
    checkpointGraph(graph, forwardCount, keep, { segments: 3 });
    const gradients = graph.nodes.filter((node) => node.op === 'unaryGrad');
    const readsOriginal = gradients.filter((node) => forwardReluOutputs.has(node.inputs[2]!.id));
    const readsCopy = gradients.filter((node) => !forwardReluOutputs.has(node.inputs[2]!.id));
    // Boundary values are kept, and the activations inside the first two segments are not.
    assert.ok(readsOriginal.length >= 1);
    assert.ok(readsCopy.length >= 2);
  });

  it('recomputes batch norm without running statistics', () => {
    const { graph, forwardCount, keep } = training({ batchNorm: true });
    checkpointGraph(graph, forwardCount, keep, { segments: 3 });
    const norms = recomputed(graph.nodes).filter((node) => node.op === 'batchNorm');
    assert.ok(norms.length > 0);
    for (const norm of norms) {
      assert.equal((norm.attrs as { trackRunningStats: boolean }).trackRunningStats, false);
      assert.ok(norm.inputs.every((input) => input.kind !== 'buffer'));
    }
  });

  it('recomputes dropout with the original mask', () => {
    const { graph, forwardCount, keep } = training({ dropout: 0.25 });
    const forwardDropouts = graph.nodes
      .slice(0, forwardCount)
      .filter((node) => node.op === 'dropout')
      .map((node) => node.id);
    checkpointGraph(graph, forwardCount, keep, { segments: 3 });
    const copies = recomputed(graph.nodes);
    assert.ok(!copies.some((node) => node.op === 'dropout'));
    const masks = copies.filter((node) => node.op === 'dropoutGrad');
    assert.ok(masks.length > 0);
    for (const mask of masks) {
      assert.ok(forwardDropouts.includes((mask.attrs as { stream: number }).stream));
    }
  });

  it('picks a segment count with auto', () => {
    const { graph, forwardCount, keep } = training({ depth: 8 });
    const outputs = graph.outputs.map((output) => output.value);
    const kept = new Set([...keep, ...outputs].map((value) => value.id));
    const peakBefore = estimatePeakBytes(graph, kept);
    const result = checkpointGraph(graph, forwardCount, keep, 'auto');
    assert.ok(result.segments > 1);
    assert.ok(['bytes', 'nodes'].includes(result.balance));
    assert.ok(result.estimatedPeakBytes < peakBefore);
    assert.equal(result.estimatedPeakBytes, estimatePeakBytes(graph, kept));
  });

  it('uses the measure given to auto', () => {
    const { graph, forwardCount, keep } = training({ depth: 8 });
    // A measure that only counts nodes prefers no checkpointing, which adds none.
    const result = checkpointGraph(graph, forwardCount, keep, 'auto', (g) => g.nodes.length);
    assert.equal(result.segments, 1);
    assert.equal(result.recomputedNodes, 0);
  });

  const invalid: [string, unknown, RegExp][] = [
    ['zero segments', { segments: 0 }, /segments must be an integer >= 1, got 0/],
    ['fractional segments', { segments: 1.5 }, /got 1\.5/],
    ['missing segments', {}, /got undefined/],
    ['too many segments', { segments: 1000 }, /has only \d+ nodes/],
  ];
  for (const [title, option, message] of invalid) {
    it(`rejects ${title}`, () => {
      const { graph, forwardCount, keep } = training();
      assert.throws(
        () => checkpointGraph(graph, forwardCount, keep, option as { segments: number }),
        message,
      );
    });
  }
});
