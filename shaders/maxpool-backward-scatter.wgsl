// Input gradient of max pooling for windows that do not overlap (stride >= dilated kernel
// span on every axis). The input is cut into cells of stride elements per axis, starting at
// -padding, so every input element lies in exactly one cell and every window inside the cell
// of its output. Each thread owns one cell: it reads its output's gradient and argmax once
// and writes the whole cell, the gradient at the argmax and zero elsewhere. No two threads
// write one element, so no atomics are needed and every value has one term.

const COUNT = {{COUNT}};
const ID = {{ID}}; const IH = {{IH}}; const IW = {{IW}};
const OD = {{OD}}; const OH = {{OH}}; const OW = {{OW}};
const SD = {{SD}}; const SH = {{SH}}; const SW = {{SW}};
const PD = {{PD}}; const PH = {{PH}}; const PW = {{PW}};
// Cells per axis: ceil((input + padding) / stride), at least the output size.
const CD = {{CD}}; const CH = {{CH}}; const CW = {{CW}};

// Output gradient, contiguous [planes, OD, OH, OW].
@group(0) @binding(0) var<storage, read> dy: array<f32>;
// Argmax written by the forward pass, same layout as dy. 0xffffffff, written for a window
// that passes no relu gradient, matches no input, so that window adds nothing.
@group(0) @binding(1) var<storage, read> argmax: array<u32>;
// Input gradient, contiguous [planes, ID, IH, IW].
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

// 256 threads, one cell each (COUNT = planes x CD x CH x CW).
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  let cw = i32(i % u32(CW));
  let ch = i32((i / u32(CW)) % u32(CH));
  let cd = i32((i / u32(CW * CH)) % u32(CD));
  let plane = i / u32(CW * CH * CD);

  // A cell past the last output holds inputs that no window reads: their gradient is zero.
  var winner = 0xffffffffu;
  var value = 0.0;
  if (cd < OD && ch < OH && cw < OW) {
    let o = plane * u32(OD * OH * OW) + u32((cd * OH + ch) * OW + cw);
    winner = argmax[o];
    value = dy[o];
  }
  let base = plane * u32(ID * IH * IW);
  for (var sd = 0i; sd < SD; sd++) {
    let d = cd * SD - PD + sd;
    if (d < 0 || d >= ID) { continue; }
    for (var sh = 0i; sh < SH; sh++) {
      let h = ch * SH - PH + sh;
      if (h < 0 || h >= IH) { continue; }
      for (var sw = 0i; sw < SW; sw++) {
        let w = cw * SW - PW + sw;
        if (w < 0 || w >= IW) { continue; }
        let flat = u32((d * IH + h) * IW + w);
        dx[base + flat] = select(0.0, value, flat == winner);
      }
    }
  }
}
