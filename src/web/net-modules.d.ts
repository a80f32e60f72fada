// .net sources import as strings in the browser bundle (esbuild's text loader, set in
// scripts/build.mjs). Node has no loader for them, so only bundled code imports them.
declare module '*.net' {
  const source: string;
  export default source;
}
