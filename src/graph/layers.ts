// Entry point of the layer registry; the layers themselves live in ./layers/.

export * from './layers/index.js';
