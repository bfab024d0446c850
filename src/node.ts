/** webgpu-xai for Node: everything in the main entry point plus reading and writing files. */
export * from './index.js';
export { readFileBytes, loadWeightsFile, loadNpyFile, saveNpyFile } from './io/files.js';
export { decodeImage, encodePng } from './io/image.js';
export { loadImageTensor, saveRgbPng } from './io/image-files.js';
export { loadInput, DEFAULT_SIZE, type InputSize } from './io/input.js';
