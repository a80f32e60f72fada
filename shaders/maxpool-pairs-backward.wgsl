// Input gradient of max pooling for windows that tile the input exactly (stride = kernel, no
// padding or dilation, ID = KD * OD, IH = KH * OH, IW = 2 * OW) with an even output width.
// Each thread owns the windows of two neighbouring outputs: it reads their gradients and
// argmaxes as vec2 and writes every input of both windows, one vec4 per row, the gradient at
// the argmax and zero elsewhere. No two threads write one element, so no atomics are needed.

const COUNT = {{COUNT}};
const IH = {{IH}}; const IW = {{IW}};
const OD = {{OD}}; const OH = {{OH}}; const OW = {{OW}};
const KD = {{KD}}; const KH = {{KH}};
const ID = {{ID}};

// Output gradient, contiguous [planes, OD, OH, OW], as pairs along W.
@group(0) @binding(0) var<storage, read> dy: array<vec2f>;
// Argmax written by the forward pass, same layout as dy. 0xffffffff, written for a window
// that passes no relu gradient, matches no input, so that window adds nothing.
@group(0) @binding(1) var<storage, read> argmax: array<vec2u>;
// Input gradient, contiguous [planes, ID, IH, IW].
@group(0) @binding(2) var<storage, read_write> dx: array<vec4f>;

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
  let value = dy[i];
  let winner = argmax[i];
  let zero = vec2f(0.0);
  for (var kd = 0u; kd < u32(KD); kd++) {
    for (var kh = 0u; kh < u32(KH); kh++) {
      // Flat index of the pair's first input in this row; the row starts on a vec4.
      let index = origin.y + (kd * u32(IH) + kh) * u32(IW);
      let left = select(zero, value, winner == vec2u(index, index + 2u));
      let right = select(zero, value, winner == vec2u(index + 1u, index + 3u));
      dx[(base + index) / 4u] = vec4f(left.x, right.x, left.y, right.y);
    }
  }
}
