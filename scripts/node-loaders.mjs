// Registers the loaders that let Node run the TypeScript sources directly: tsx for
// .ts files and a text loader that turns `import source from './x.wgsl'` into a string,
// as esbuild's text loader does in the bundles.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./text-loader.mjs', import.meta.url);
