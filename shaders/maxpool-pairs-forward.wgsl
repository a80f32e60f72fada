// Max pooling for windows that tile the input (stride = kernel, no padding or dilation) with
// KW = 2 and an even output width, two neighbouring outputs per thread: each input row of the
// pair is one vec4 load, and the maxima and argmaxes are vec2 stores. Ties and NaN follow
// maxpool-forward.wgsl: the first tap in D, H, W order wins, and a NaN replaces the maximum.
// RELU_MASK marks windows that pass no relu gradient, as in maxpool-forward.wgsl.

const COUNT = {{COUNT}};
const IH = {{IH}}; const IW = {{IW}};
const OD = {{OD}}; const OH = {{OH}}; const OW = {{OW}};
const KD = {{KD}}; const KH = {{KH}};
const ID = {{ID}};
const RELU_MASK = {{RELU_MASK}};
const NO_GRADIENT = 0xffffffffu;

// Input, contiguous [planes, ID, IH, IW], IW = 2 * OW.
@group(0) @binding(0) var<storage, read> x: array<vec4f>;
// Output maxima, contiguous [planes, OD, OH, OW], as pairs along W.
@group(0) @binding(1) var<storage, read_write> y: array<vec2f>;
// Argmax of each output, as a flat index into its input plane.
@group(0) @binding(2) var<storage, read_write> argmax: array<vec2u>;

// 256 threads, one pair of outputs each (COUNT = planes x OD x OH x OW / 2).
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  let origin = pair_origin(i);
  let base = origin.x;

  var best = vec2f(0.0);
  var best_index = vec2u(0u);
  for (var kd = 0u; kd < u32(KD); kd++) {
    for (var kh = 0u; kh < u32(KH); kh++) {
      // Flat index of the pair's first input in this row; the row starts on a vec4.
      let index = origin.y + (kd * u32(IH) + kh) * u32(IW);
      let row = x[(base + index) / 4u];
      let left = vec2f(row.x, row.z);
      let right = vec2f(row.y, row.w);
      let at = vec2u(index, index + 2u);
      let first = kd == 0u && kh == 0u;
      let take_left = vec2(first) | (left > best) | (left != left);
      best = select(best, left, take_left);
      best_index = select(best_index, at, take_left);
      let take_right = (right > best) | (right != right);
      best = select(best, right, take_right);
      best_index = select(best_index, at + 1u, take_right);
    }
  }
  y[i] = best;
  let masked = vec2(RELU_MASK) & !(best > vec2f(0.0));
  argmax[i] = select(best_index, vec2u(NO_GRADIENT), masked);
}
