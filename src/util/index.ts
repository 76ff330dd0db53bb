// Public surface of src/util: tiny helpers shared by several folders.
export { mix32 } from './hash.js';
