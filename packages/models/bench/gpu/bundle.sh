#!/usr/bin/env bash
# Bundles webgpu-bench.ts (TF.js, the webgpu backend and our UNet) into one file for the GPU machine.
set -eu
cd "$(dirname "$0")/../../../.."
mkdir -p .gpu
npx esbuild packages/models/bench/gpu/webgpu-bench.ts --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --outfile=.gpu/webgpu-bench.mjs \
  --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" --log-level=warning
ls -la .gpu/webgpu-bench.mjs
