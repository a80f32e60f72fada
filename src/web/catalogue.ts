// The package's network catalogue (dsl/*.net) bundled into the page as text, so a network
// that imports a catalogue file ('common.net') compiles without a file system. Only bundles
// can import this file, because Node has no loader for .net imports.

import type { SourceHost } from '../dsl/modules.js';
import autoencoder from '../../dsl/autoencoder.net';
import cnn from '../../dsl/cnn.net';
import common from '../../dsl/common.net';
import densenet from '../../dsl/densenet.net';
import resnet from '../../dsl/resnet.net';
import unet from '../../dsl/unet.net';
import vit from '../../dsl/vit.net';

const CATALOGUE = new Map<string, string>([
  ['autoencoder.net', autoencoder],
  ['cnn.net', cnn],
  ['common.net', common],
  ['densenet.net', densenet],
  ['resnet.net', resnet],
  ['unet.net', unet],
  ['vit.net', vit],
]);

/** Serves the bundled catalogue files by file name, as catalogueHost does from disk in Node. */
export const bundledCatalogue: SourceHost = {
  readFile: (path) => CATALOGUE.get(path.replace(/^(\.\/)+/, '')),
};
