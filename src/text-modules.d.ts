// WGSL sources import as strings: esbuild's text loader in bundles, scripts/text-loader.mjs in Node.
declare module '*.wgsl' {
  const source: string;
  export default source;
}
