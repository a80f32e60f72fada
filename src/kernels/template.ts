// Specialises a WGSL template from shaders/ by filling its `{{NAME}}` placeholders with
// constants. Templating fills in constants only: every placeholder must be given and every
// given constant must be used, so a renamed placeholder fails loudly instead of compiling
// into a different kernel.

export type TemplateValue = number | boolean | string;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Formats a number as a WGSL literal: integers as `12u` when `unsigned`, floats with a dot. */
export function wgslNumber(value: number, type: 'u32' | 'i32' | 'f32'): string {
  if (!Number.isFinite(value)) throw new RangeError(`Cannot write ${value} as a WGSL ${type}.`);
  if (type === 'f32') {
    const text = String(Math.fround(value));
    return /[.e]/.test(text) ? text : `${text}.0`;
  }
  if (!Number.isInteger(value)) throw new RangeError(`${value} is not an integer (${type}).`);
  if (type === 'u32') {
    if (value < 0 || value > 0xffffffff) throw new RangeError(`${value} does not fit in u32.`);
    return `${value}u`;
  }
  if (value < -0x80000000 || value > 0x7fffffff)
    throw new RangeError(`${value} does not fit in i32.`);
  return `${value}i`;
}

export function specialize(
  templateName: string,
  template: string,
  constants: Record<string, TemplateValue>,
): string {
  const used = new Set<string>();
  const source = template.replace(PLACEHOLDER, (_, name: string) => {
    if (!(name in constants)) {
      throw new Error(`WGSL template '${templateName}' needs a value for {{${name}}}.`);
    }
    used.add(name);
    return String(constants[name]);
  });
  const unused = Object.keys(constants).filter((name) => !used.has(name));
  if (unused.length > 0) {
    throw new Error(
      `WGSL template '${templateName}' has no placeholder for: ${unused.join(', ')}.`,
    );
  }
  return source;
}
