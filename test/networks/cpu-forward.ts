// A float64 interpreter of the forward ops the catalogue networks use, in eval mode (batch norm
// with running statistics, dropout as identity). The tests use it to compare a network's
// output with PyTorch's without a GPU. It is written for clarity, not speed.

import type { Graph, Node, Shape, Value } from '../../src/graph/ir.js';
import { erf } from '../../src/kernels/reference/elementwise.js';

export interface Tensor {
  shape: number[];
  data: Float64Array;
}

function size(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let axis = shape.length - 2; axis >= 0; axis--) {
    strides[axis] = strides[axis + 1] * shape[axis + 1];
  }
  return strides;
}

/** Builds a tensor of `outShape` whose elements are read from `input` at `source(index)`. */
function gather(input: Tensor, outShape: Shape, source: (index: number[]) => number[]): Tensor {
  const out = new Float64Array(size(outShape));
  const inStrides = stridesOf(input.shape);
  const index = new Array<number>(outShape.length).fill(0);
  for (let flat = 0; flat < out.length; flat++) {
    let rest = flat;
    for (let axis = outShape.length - 1; axis >= 0; axis--) {
      index[axis] = rest % outShape[axis];
      rest = Math.floor(rest / outShape[axis]);
    }
    const from = source(index);
    out[flat] = input.data[from.reduce((sum, i, axis) => sum + i * inStrides[axis], 0)];
  }
  return { shape: [...outShape], data: out };
}

function broadcast(input: Tensor, outShape: Shape): Tensor {
  const offset = outShape.length - input.shape.length;
  return gather(input, outShape, (index) =>
    input.shape.map((extent, axis) => (extent === 1 ? 0 : index[axis + offset])),
  );
}

function binary(a: Tensor, b: Tensor, outShape: Shape, f: (x: number, y: number) => number) {
  const left = broadcast(a, outShape);
  const right = broadcast(b, outShape);
  return { shape: [...outShape], data: left.data.map((x, i) => f(x, right.data[i])) };
}

function unary(x: Tensor, f: (value: number) => number): Tensor {
  return { shape: [...x.shape], data: x.data.map(f) };
}

/** Views [N, C, ...spatial] as [N, C, D, H, W] by adding leading spatial axes of size 1. */
function lift3d(shape: Shape): number[] {
  return [shape[0], shape[1], ...new Array(5 - shape.length).fill(1), ...shape.slice(2)];
}

function lift<T>(values: readonly T[], fill: T): T[] {
  return [...new Array<T>(3 - values.length).fill(fill), ...values];
}

function conv(node: Node<'conv'>, [x, w, b]: Tensor[], outShape: Shape): Tensor {
  const { stride, dilation, groups } = node.attrs;
  const padding = lift(
    node.attrs.padding.map((pair) => pair[0]),
    0,
  );
  const [s, d] = [lift([...stride], 1), lift([...dilation], 1)];
  const [batch, inChannels, ...inSize] = lift3d(x.shape);
  const [, outChannels, ...outSize] = lift3d(outShape);
  const kernel = lift(w.shape.slice(2), 1);
  const perGroup = inChannels / groups;
  const out = new Float64Array(size(outShape));
  let flat = 0;
  for (let n = 0; n < batch; n++) {
    for (let oc = 0; oc < outChannels; oc++) {
      const group = Math.floor(oc / (outChannels / groups));
      for (let od = 0; od < outSize[0]; od++) {
        for (let oh = 0; oh < outSize[1]; oh++) {
          for (let ow = 0; ow < outSize[2]; ow++) {
            let sum = b ? b.data[oc] : 0;
            for (let ic = 0; ic < perGroup; ic++) {
              const channel = group * perGroup + ic;
              for (let kd = 0; kd < kernel[0]; kd++) {
                const id = od * s[0] - padding[0] + kd * d[0];
                if (id < 0 || id >= inSize[0]) continue;
                for (let kh = 0; kh < kernel[1]; kh++) {
                  const ih = oh * s[1] - padding[1] + kh * d[1];
                  if (ih < 0 || ih >= inSize[1]) continue;
                  for (let kw = 0; kw < kernel[2]; kw++) {
                    const iw = ow * s[2] - padding[2] + kw * d[2];
                    if (iw < 0 || iw >= inSize[2]) continue;
                    const xi =
                      (((n * inChannels + channel) * inSize[0] + id) * inSize[1] + ih) * inSize[2] +
                      iw;
                    const wi =
                      (((oc * perGroup + ic) * kernel[0] + kd) * kernel[1] + kh) * kernel[2] + kw;
                    sum += x.data[xi] * w.data[wi];
                  }
                }
              }
            }
            out[flat++] = sum;
          }
        }
      }
    }
  }
  return { shape: [...outShape], data: out };
}

/**
 * Applies a pooling `reduce` over windows. `window(axis, out)` returns the start, end and size of
 * the window of output position `out` along an axis.
 */
function pool(
  x: Tensor,
  outShape: Shape,
  window: (axis: number, out: number) => [number, number, number],
  reduce: (values: number[], windowSize: number) => number,
): Tensor {
  const [batch, channels, ...inSize] = lift3d(x.shape);
  const outSize = lift3d(outShape).slice(2);
  const out = new Float64Array(size(outShape));
  let flat = 0;
  for (let nc = 0; nc < batch * channels; nc++) {
    for (let od = 0; od < outSize[0]; od++) {
      for (let oh = 0; oh < outSize[1]; oh++) {
        for (let ow = 0; ow < outSize[2]; ow++) {
          const ranges = [od, oh, ow].map((o, axis) => window(axis, o));
          const values: number[] = [];
          for (let id = ranges[0][0]; id < ranges[0][1]; id++) {
            for (let ih = ranges[1][0]; ih < ranges[1][1]; ih++) {
              for (let iw = ranges[2][0]; iw < ranges[2][1]; iw++) {
                const inside = id >= 0 && ih >= 0 && iw >= 0;
                if (!inside || id >= inSize[0] || ih >= inSize[1] || iw >= inSize[2]) continue;
                values.push(x.data[((nc * inSize[0] + id) * inSize[1] + ih) * inSize[2] + iw]);
              }
            }
          }
          out[flat++] = reduce(
            values,
            ranges.reduce((product, r) => product * r[2], 1),
          );
        }
      }
    }
  }
  return { shape: [...outShape], data: out };
}

function slidingWindow(
  attrs: { kernelSize: readonly number[]; stride: readonly number[] } & {
    padding: readonly (readonly [number, number])[];
  },
) {
  const kernel = lift([...attrs.kernelSize], 1);
  const stride = lift([...attrs.stride], 1);
  const padding = lift(
    attrs.padding.map((pair) => pair[0]),
    0,
  );
  return (axis: number, out: number): [number, number, number] => {
    const start = out * stride[axis] - padding[axis];
    return [start, start + kernel[axis], kernel[axis]];
  };
}

function adaptiveWindow(inSize: number[], outSize: number[]) {
  return (axis: number, out: number): [number, number, number] => {
    const start = Math.floor((out * inSize[axis]) / outSize[axis]);
    const end = Math.ceil(((out + 1) * inSize[axis]) / outSize[axis]);
    return [start, end, end - start];
  };
}

function normalise(
  x: Tensor,
  groupOf: (flat: number) => number,
  stats: {
    mean: (group: number) => number;
    variance: (group: number) => number;
    eps: number;
    scale: (flat: number) => number;
    shift: (flat: number) => number;
  },
): Tensor {
  const data = x.data.map((value, flat) => {
    const group = groupOf(flat);
    const normalised = (value - stats.mean(group)) / Math.sqrt(stats.variance(group) + stats.eps);
    return normalised * stats.scale(flat) + stats.shift(flat);
  });
  return { shape: [...x.shape], data };
}

function batchNorm(node: Node<'batchNorm'>, inputs: Tensor[]): Tensor {
  const [x] = inputs;
  const [weight, bias] = node.attrs.affine ? [inputs[1], inputs[2]] : [null, null];
  const [mean, variance] = node.attrs.affine ? [inputs[3], inputs[4]] : [inputs[1], inputs[2]];
  const channels = x.shape[1];
  const inner = size(x.shape.slice(2));
  const channelOf = (flat: number) => Math.floor(flat / inner) % channels;
  return normalise(x, channelOf, {
    mean: (c) => mean.data[c],
    variance: (c) => variance.data[c],
    eps: node.attrs.eps,
    scale: (flat) => (weight ? weight.data[channelOf(flat)] : 1),
    shift: (flat) => (bias ? bias.data[channelOf(flat)] : 0),
  });
}

function layerNorm(node: Node<'layerNorm'>, [x, weight, bias]: Tensor[]): Tensor {
  const inner = size(node.attrs.normalizedShape);
  const groups = x.data.length / inner;
  const means = new Float64Array(groups);
  const variances = new Float64Array(groups);
  for (let group = 0; group < groups; group++) {
    const values = x.data.subarray(group * inner, (group + 1) * inner);
    means[group] = values.reduce((a, b) => a + b, 0) / inner;
    variances[group] = values.reduce((a, v) => a + (v - means[group]) ** 2, 0) / inner;
  }
  return normalise(x, (flat) => Math.floor(flat / inner), {
    mean: (group) => means[group],
    variance: (group) => variances[group],
    eps: node.attrs.eps,
    scale: (flat) => (weight ? weight.data[flat % inner] : 1),
    shift: (flat) => (bias ? bias.data[flat % inner] : 0),
  });
}

function matmul(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean, outShape: Shape) {
  const rank = outShape.length;
  const [m, n] = [outShape[rank - 2], outShape[rank - 1]];
  const k = transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
  const batches = size(outShape.slice(0, -2));
  const out = new Float64Array(size(outShape));
  for (let batch = 0; batch < batches; batch++) {
    const [aBase, bBase] = [batch * m * k, batch * k * n];
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          const left = a.data[aBase + (transposeA ? p * m + i : i * k + p)];
          const right = b.data[bBase + (transposeB ? j * k + p : p * n + j)];
          sum += left * right;
        }
        out[(batch * m + i) * n + j] = sum;
      }
    }
  }
  return { shape: [...outShape], data: out };
}

function linear([x, w, b]: Tensor[], outShape: Shape): Tensor {
  const [outFeatures, inFeatures] = w.shape;
  const rows = x.data.length / inFeatures;
  const flat = matmul({ shape: [rows, inFeatures], data: x.data }, w, false, true, [
    rows,
    outFeatures,
  ]);
  const data = b ? flat.data.map((value, i) => value + b.data[i % outFeatures]) : flat.data;
  return { shape: [...outShape], data };
}

function softmax(x: Tensor, axis: number): Tensor {
  const strides = stridesOf(x.shape);
  const out = new Float64Array(x.data.length);
  const extent = x.shape[axis];
  for (let flat = 0; flat < x.data.length; flat++) {
    if (Math.floor(flat / strides[axis]) % extent !== 0) continue;
    const indices = Array.from({ length: extent }, (_, i) => flat + i * strides[axis]);
    const max = Math.max(...indices.map((i) => x.data[i]));
    const exps = indices.map((i) => Math.exp(x.data[i] - max));
    const total = exps.reduce((a, b) => a + b, 0);
    indices.forEach((i, position) => (out[i] = exps[position] / total));
  }
  return { shape: [...x.shape], data: out };
}

function concat(inputs: Tensor[], axis: number, outShape: Shape): Tensor {
  const offsets = inputs.map((_, i) =>
    inputs.slice(0, i).reduce((sum, t) => sum + t.shape[axis], 0),
  );
  const out = new Float64Array(size(outShape));
  const outStrides = stridesOf(outShape);
  inputs.forEach((input, which) => {
    const strides = stridesOf(input.shape);
    input.data.forEach((value, flat) => {
      let target = 0;
      for (let a = 0; a < input.shape.length; a++) {
        const index = Math.floor(flat / strides[a]) % input.shape[a];
        target += (a === axis ? index + offsets[which] : index) * outStrides[a];
      }
      out[target] = value;
    });
  });
  return { shape: [...outShape], data: out };
}

/** Computes one node's outputs from its input tensors. */
function evaluateNode(node: Node, inputs: Tensor[]): Tensor {
  const outShape = node.outputs[0].shape;
  const attrs = node.attrs as never as Record<string, unknown>;
  const [x] = inputs;
  switch (node.op) {
    case 'conv':
      return conv(node as Node<'conv'>, inputs, outShape);
    case 'batchNorm':
      return batchNorm(node as Node<'batchNorm'>, inputs);
    case 'layerNorm':
      return layerNorm(node as Node<'layerNorm'>, inputs);
    case 'maxPool':
      return pool(x, outShape, slidingWindow(node.attrs as never), (v) => Math.max(...v));
    case 'avgPool':
      return pool(
        x,
        outShape,
        slidingWindow(node.attrs as never),
        (v, count) => v.reduce((a, b) => a + b, 0) / (attrs.countIncludePad ? count : v.length),
      );
    case 'adaptiveAvgPool': {
      const window = adaptiveWindow(lift3d(x.shape).slice(2), lift3d(outShape).slice(2));
      return pool(x, outShape, window, (v) => v.reduce((a, b) => a + b, 0) / v.length);
    }
    case 'upsample': {
      const scale = attrs.scale as number[] | null;
      if (attrs.mode !== 'nearest') throw new Error('only nearest upsampling is interpreted');
      return gather(x, outShape, (index) =>
        index.map((i, axis) => {
          if (axis < 2) return i;
          const ratio = scale ? 1 / scale[axis - 2] : x.shape[axis] / outShape[axis];
          return Math.min(Math.floor(i * ratio), x.shape[axis] - 1);
        }),
      );
    }
    case 'linear':
      return linear(inputs, outShape);
    case 'matmul':
      return matmul(x, inputs[1], !!attrs.transposeA, !!attrs.transposeB, outShape);
    case 'add':
      return binary(x, inputs[1], outShape, (a, b) => a + b);
    case 'mul':
      return binary(x, inputs[1], outShape, (a, b) => a * b);
    case 'scale':
      return unary(x, (v) => v * (attrs.factor as number));
    case 'relu':
      return unary(x, (v) => Math.max(0, v));
    case 'prelu':
      return binary(x, broadcastChannel(inputs[1], x.shape), outShape, (v, a) =>
        v >= 0 ? v : a * v,
      );
    case 'sigmoid':
      return unary(x, (v) => 1 / (1 + Math.exp(-v)));
    case 'gelu':
      return unary(x, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
    case 'softmax':
      return softmax(x, attrs.axis as number);
    case 'dropout':
      return x;
    case 'reshape':
      return { shape: [...outShape], data: x.data };
    case 'permute': {
      const axes = attrs.axes as number[];
      return gather(x, outShape, (index) => axes.map((_, a) => index[axes.indexOf(a)]));
    }
    case 'slice': {
      const { begin, step } = attrs as { begin: number[]; step: number[] };
      return gather(x, outShape, (index) => index.map((i, axis) => begin[axis] + i * step[axis]));
    }
    case 'broadcastTo':
      return broadcast(x, outShape);
    case 'concat':
      return concat(inputs, attrs.axis as number, outShape);
    default:
      throw new Error(`the test interpreter has no op '${node.op}'`);
  }
}

/** Views a [1] or [C] prelu weight as [1, C, 1, ...] so it broadcasts over the channel axis. */
function broadcastChannel(weight: Tensor, shape: Shape): Tensor {
  const channels = weight.shape[0];
  const view = shape.map((_, axis) => (axis === 1 ? channels : 1));
  return { shape: view, data: weight.data };
}

/**
 * Runs the graph's forward pass on `input` and returns the tensor of output `output`. Params and
 * buffers come from `state` by state_dict name, constants from the graph.
 */
export function runForward(
  graph: Graph,
  input: Float64Array,
  state: ReadonlyMap<string, Float64Array>,
  output = 'output',
): Tensor {
  const values = new Map<number, Tensor>();
  const set = (value: Value, data: Float64Array) =>
    values.set(value.id, { shape: [...value.shape], data });
  set(graph.inputs[0].value, input);
  for (const value of graph.stateValues())
    set(value, state.get(value.name ?? '') ?? new Float64Array(1));
  for (const value of graph.constants) set(value, Float64Array.from(value.data ?? []));
  for (const node of graph.nodes) {
    const inputs = node.inputs.map((value) => {
      const tensor = values.get(value.id);
      if (!tensor) throw new Error(`value #${value.id} has no tensor before node ${node.op}`);
      return tensor;
    });
    values.set(node.outputs[0].id, evaluateNode(node, inputs));
  }
  return values.get(graph.output(output)!.id)!;
}
