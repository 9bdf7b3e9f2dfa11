// Node's Buffer for the browser bundles that include the project's own DER code (src/der works
// on Buffers): esbuild's `inject` puts this module's export where those files use the global.
export { Buffer } from 'buffer';
