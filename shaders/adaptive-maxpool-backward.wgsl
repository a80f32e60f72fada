// Input gradient of adaptive max pooling in gather form: each thread owns one input element
// and sums dy over the overlapping windows whose argmax it is, in a fixed order and without
// atomics. Adaptive windows overlap at most their neighbours, so a few candidates suffice.

const COUNT = {{COUNT}};
const ID = {{ID}}; const IH = {{IH}}; const IW = {{IW}};
const OD = {{OD}}; const OH = {{OH}}; const OW = {{OW}};

// Output gradient, contiguous [planes, OD, OH, OW].
@group(0) @binding(0) var<storage, read> dy: array<f32>;
// Argmax written by the forward pass, same layout as dy.
@group(0) @binding(1) var<storage, read> argmax: array<u32>;
// Input gradient, contiguous [planes, ID, IH, IW].
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

// First and last output whose window may contain input coordinate c.
fn candidates(c: i32, size_in: i32, size_out: i32) -> vec2i {
  let first = max(0, (c * size_out) / size_in - 1);
  return vec2i(first, min(size_out - 1, ((c + 1) * size_out) / size_in + 1));
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
  let flat = u32((d * IH + h) * IW + w);
  let out_base = (i / u32(IW * IH * ID)) * u32(OD * OH * OW);
  let rd = candidates(d, ID, OD);
  let rh = candidates(h, IH, OH);
  let rw = candidates(w, IW, OW);
  var total = 0.0;
  for (var od = rd.x; od <= rd.y; od++) {
    for (var oh = rh.x; oh <= rh.y; oh++) {
      for (var ow = rw.x; ow <= rw.y; ow++) {
        let o = out_base + u32((od * OH + oh) * OW + ow);
        if (argmax[o] == flat) { total += dy[o]; }
      }
    }
  }
  dx[i] = total;
}
