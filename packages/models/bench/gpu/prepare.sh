#!/usr/bin/env bash
# Run here (a Linux x86-64 machine with this repo's node_modules and Debian's apt), once, before the GPU benchmark:
# packs into .gpu/ (git-ignored) what the GPU machine may lack, since that machine may have no network.
#   .gpu/node.xz                          this machine's Node binary (Node 20), xz-compressed
#   .gpu/node_modules/webgpu/             the webgpu package (index.js + Dawn's dawn.node for linux-x64, xz-compressed)
#   .gpu/webgpu-bench.mjs                 bench/gpu/webgpu-bench.ts bundled with TF.js, tfjs-backend-webgpu, our kernels
#   .gpu/debs/*.deb                       the Vulkan loader (Dawn opens libvulkan.so.1; the GPU's driver is its ICD) and
#                                         the GL dispatch libraries NVIDIA's ICD links against (libglvnd0, libegl1, libglx0)
# About 45 MiB in all. run-on-device.sh uses a Node, webgpu package or Vulkan loader already on the GPU machine
# first, and these otherwise.
set -eu
cd "$(dirname "$0")/../../../.."
[ "$(uname -m)" = x86_64 ] || echo "warning: this machine is $(uname -m); the Node binary packed here will not run on an x86-64 GPU machine" >&2
dawn=node_modules/webgpu/dist/linux-x64/dawn.node
[ -f "$dawn" ] || { echo "missing $dawn: run npm ci first (webgpu is an optional dependency of @dapple/models)" >&2; exit 1; }

rm -rf .gpu/node_modules .gpu/debs
mkdir -p .gpu/node_modules/webgpu/dist/linux-x64 .gpu/debs
cp node_modules/webgpu/index.js node_modules/webgpu/package.json .gpu/node_modules/webgpu/
xz -T0 -6 -c "$dawn" >.gpu/node_modules/webgpu/dist/linux-x64/dawn.node.xz
node_bin=$(command -v node)
case "$(node -v)" in v20.* | v22.* | v24.*) ;; *) echo "warning: $(node -v) is older than Node 20" >&2 ;; esac
xz -T0 -6 -c "$node_bin" >.gpu/node.xz
(cd .gpu/debs && apt-get download libvulkan1 libglvnd0 libegl1 libglx0 >/dev/null) ||
  echo "warning: apt-get download of the Vulkan loader failed; the GPU machine then needs its own" >&2
bash packages/models/bench/gpu/bundle.sh
du -sh .gpu
