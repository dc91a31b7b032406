// Node-only: where the wasm binaries of @tensorflow/tfjs-backend-wasm live inside node_modules.
// Imported dynamically by backend.ts so that browser bundles never pull in node:module / node:path.
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';

export function nodeWasmDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  // The loader concatenates prefix + file name, so the prefix must end with a separator.
  return join(dirname(pkg), 'dist') + sep;
}
