// Float64 CPU references of convolution forward, its input, weight and bias gradients, and
// transposed convolution, for the kernel tests. Direct loops over the definition
//   y[b, co, o] = bias[co] + sum over ci, k of w[co, ci, k] * x[b, g * groupIn + ci, o*s - p + k*d]
// where g is the group of co.

import { resolveConv, volume, type Conv3d, type ConvGeometry } from '../conv.js';
import { transposeAsConv, type ConvTransposeGeometry } from '../conv-dgrad.js';

/**
 * Calls `visit(xIndex, wIndex, yIndex)` for every (input, weight, output) triple of `conv`
 * whose input element lies inside the unpadded input.
 */
function forEachTap(
  conv: Conv3d,
  visit: (xIndex: number, wIndex: number, yIndex: number) => void,
): void {
  const [inD, inH, inW] = conv.input as [number, number, number];
  const [outD, outH, outW] = conv.output as [number, number, number];
  const [kD, kH, kW] = conv.kernel as [number, number, number];
  const groupIn = conv.inChannels / conv.groups;
  const groupOut = conv.outChannels / conv.groups;
  const inVoxels = volume(conv.input);
  const outVoxels = volume(conv.output);
  const kernelVolume = volume(conv.kernel);
  for (let b = 0; b < conv.batch; b++) {
    for (let co = 0; co < conv.outChannels; co++) {
      const g = Math.floor(co / groupOut);
      for (let od = 0; od < outD; od++) {
        for (let oh = 0; oh < outH; oh++) {
          for (let ow = 0; ow < outW; ow++) {
            const yIndex = (b * conv.outChannels + co) * outVoxels + (od * outH + oh) * outW + ow;
            for (let ci = 0; ci < groupIn; ci++) {
              const xBase = (b * conv.inChannels + g * groupIn + ci) * inVoxels;
              const wBase = (co * groupIn + ci) * kernelVolume;
              for (let kd = 0; kd < kD; kd++) {
                const d = od * conv.stride[0]! - conv.padBefore[0]! + kd * conv.dilation[0]!;
                if (d < 0 || d >= inD) continue;
                for (let kh = 0; kh < kH; kh++) {
                  const h = oh * conv.stride[1]! - conv.padBefore[1]! + kh * conv.dilation[1]!;
                  if (h < 0 || h >= inH) continue;
                  for (let kw = 0; kw < kW; kw++) {
                    const w = ow * conv.stride[2]! - conv.padBefore[2]! + kw * conv.dilation[2]!;
                    if (w < 0 || w >= inW) continue;
                    visit(
                      xBase + (d * inH + h) * inW + w,
                      wBase + (kd * kH + kh) * kW + kw,
                      yIndex,
                    );
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

function sizes(conv: Conv3d): { input: number; weight: number; output: number } {
  return {
    input: conv.batch * conv.inChannels * volume(conv.input),
    weight: conv.outChannels * (conv.inChannels / conv.groups) * volume(conv.kernel),
    output: conv.batch * conv.outChannels * volume(conv.output),
  };
}

/** y = conv(x, weight) + bias, without activation. */
export function convReference(
  geometry: ConvGeometry,
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  bias?: ArrayLike<number>,
): Float64Array {
  const conv = resolveConv(geometry);
  const y = new Float64Array(sizes(conv).output);
  if (bias) {
    const outVoxels = volume(conv.output);
    for (let i = 0; i < y.length; i++) y[i] = bias[Math.floor(i / outVoxels) % conv.outChannels]!;
  }
  forEachTap(conv, (xi, wi, yi) => {
    y[yi] += x[xi]! * weight[wi]!;
  });
  return y;
}

/** Gradients of convReference with respect to x, weight and bias, given dy. */
export function convReferenceGrad(
  geometry: ConvGeometry,
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  dy: ArrayLike<number>,
): { dx: Float64Array; dweight: Float64Array; dbias: Float64Array } {
  const conv = resolveConv(geometry);
  const count = sizes(conv);
  const dx = new Float64Array(count.input);
  const dweight = new Float64Array(count.weight);
  const dbias = new Float64Array(conv.outChannels);
  const outVoxels = volume(conv.output);
  for (let i = 0; i < dy.length; i++) dbias[Math.floor(i / outVoxels) % conv.outChannels] += dy[i]!;
  forEachTap(conv, (xi, wi, yi) => {
    dx[xi] += dy[yi]! * weight[wi]!;
    dweight[wi] += dy[yi]! * x[xi]!;
  });
  return { dx, dweight, dbias };
}

/**
 * y = convTranspose(x, weight) + bias with PyTorch's layouts (weight [inChannels,
 * outChannels / groups, ...kernel]): the input gradient of the convolution transposeAsConv
 * describes, scattered from x.
 */
export function convTransposeReference(
  geometry: ConvTransposeGeometry,
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  bias?: ArrayLike<number>,
): Float64Array {
  const conv = resolveConv(transposeAsConv(geometry));
  const y = new Float64Array(sizes(conv).input);
  if (bias) {
    const voxels = volume(conv.input);
    for (let i = 0; i < y.length; i++) y[i] = bias[Math.floor(i / voxels) % conv.inChannels]!;
  }
  forEachTap(conv, (yi, wi, xi) => {
    y[yi] += x[xi]! * weight[wi]!;
  });
  return y;
}
