
// Position of the pair of outputs `i` (COUNT = planes x OD x OH x OW / 2) in the input: x is the
// offset of its input plane, y the flat index within that plane of the pair's first input in
// window row (kd, kh) = (0, 0). Row (kd, kh) starts (kd * IH + kh) * IW later, on a vec4.
fn pair_origin(i: u32) -> vec2u {
  let pair = i % u32(OW / 2);
  let oh = (i / u32(OW / 2)) % u32(OH);
  let od = (i / u32(OW / 2 * OH)) % u32(OD);
  let plane = i / u32(OW / 2 * OH * OD);
  let first_row = (od * u32(KD) * u32(IH) + oh * u32(KH)) * u32(IW) + 4u * pair;
  return vec2u(plane * u32(ID * IH * IW), first_row);
}
