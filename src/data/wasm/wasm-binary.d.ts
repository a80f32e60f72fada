// A .wasm file imports as its bytes in bundles: esbuild's `binary` loader (scripts/build.mjs).
declare module '*.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}
