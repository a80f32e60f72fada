// Input gradient of max pooling, in gather form: each thread owns one input element and sums
// the output gradients of the windows whose argmax it is, so no two threads write one value
// and no atomics are needed. The sum runs over taps in a fixed order.

const COUNT = {{COUNT}};
const ID = {{ID}}; const IH = {{IH}}; const IW = {{IW}};
const OD = {{OD}}; const OH = {{OH}}; const OW = {{OW}};
const KD = {{KD}}; const KH = {{KH}}; const KW = {{KW}};
const SD = {{SD}}; const SH = {{SH}}; const SW = {{SW}};
const PD = {{PD}}; const PH = {{PH}}; const PW = {{PW}};
const DD = {{DD}}; const DH = {{DH}}; const DW = {{DW}};
// true when windows tile the input (stride = kernel, no dilation or padding): each input
// then lies in at most one window, found by one division per axis.
const TILED = {{TILED}};

// Output gradient, contiguous [planes, OD, OH, OW].
@group(0) @binding(0) var<storage, read> dy: array<f32>;
// Argmax written by the forward pass, same layout as dy. 0xffffffff, written for a window
// that passes no relu gradient, matches no input, so that window adds nothing.
@group(0) @binding(1) var<storage, read> argmax: array<u32>;
// Input gradient, contiguous [planes, ID, IH, IW].
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

// Output coordinate whose window reaches input coordinate `c` through tap `k`, or -1.
fn source(c: i32, k: i32, stride: i32, pad: i32, dilation: i32, size: i32) -> i32 {
  let t = c + pad - k * dilation;
  if (t < 0 || t % stride != 0 || t / stride >= size) { return -1; }
  return t / stride;
}

// 256 threads, one input element each.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  let w = i32(i % u32(IW));
  let h = i32((i / u32(IW)) % u32(IH));
  let d = i32((i / u32(IW * IH)) % u32(ID));
  let plane = i / u32(IW * IH * ID);
  let flat = u32((d * IH + h) * IW + w);
  let out_base = plane * u32(OD * OH * OW);

  if (TILED) {
    let od = d / KD;
    let oh = h / KH;
    let ow = w / KW;
    var value = 0.0;
    if (od < OD && oh < OH && ow < OW) {
      let o = out_base + u32((od * OH + oh) * OW + ow);
      if (argmax[o] == flat) { value = dy[o]; }
    }
    dx[i] = value;
    return;
  }
  var total = 0.0;
  for (var kd = 0i; kd < KD; kd++) {
    let od = source(d, kd, SD, PD, DD, OD);
    if (od < 0) { continue; }
    for (var kh = 0i; kh < KH; kh++) {
      let oh = source(h, kh, SH, PH, DH, OH);
      if (oh < 0) { continue; }
      for (var kw = 0i; kw < KW; kw++) {
        let ow = source(w, kw, SW, PW, DW, OW);
        if (ow < 0) { continue; }
        let o = out_base + u32((od * OH + oh) * OW + ow);
        if (argmax[o] == flat) { total += dy[o]; }
      }
    }
  }
  dx[i] = total;
}
