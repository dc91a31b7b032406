#!/usr/bin/env bash
# Runs the GPU benchmarks on a lent GPU machine (no network there). Expects, from the repo root:
#   .gpu/node.xz                          the Node 20 binary of this machine, xz-compressed
#   .gpu/node_modules/webgpu/             the webgpu package's JS + dist/linux-x64/dawn.node.xz
#   .gpu/webgpu-bench.mjs                 bench/gpu/webgpu-bench.ts bundled by bench/gpu/bundle.sh
#   .gl/*.deb                             Vulkan/EGL loaders (the device README's recipe)
# Prints JSON lines from both the WebGPU (TF.js) and the PyTorch benchmark.
set -u
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f $icd ] && export VK_DRIVER_FILES=$icd
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f $egl ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
export XDG_RUNTIME_DIR=/tmp
W=/tmp/dapple-gpu; rm -rf $W; mkdir -p $W; cp -r .gpu/node_modules .gpu/webgpu-bench.mjs $W/
xz -dc .gpu/node.xz > $W/node && chmod +x $W/node
xz -d $W/node_modules/webgpu/dist/linux-x64/dawn.node.xz
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
ls /usr/local/nvidia/share/vulkan/icd.d/ 2>/dev/null
echo "--- pytorch"
PYTHONUNBUFFERED=1 timeout ${TORCH_TIMEOUT:-150} python3 packages/models/bench/gpu/torch_unet.py
echo "--- webgpu"
(cd $W && timeout ${WEBGPU_TIMEOUT:-300} ./node webgpu-bench.mjs)
echo "exit webgpu=$?"
