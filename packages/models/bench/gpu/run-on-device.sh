#!/usr/bin/env bash
# The GPU benchmark in one call, on a machine with one GPU and no network: PyTorch (fp32, bf16) and Dapple's WebGPU
# training path on the same UNet, same presets and batches, one after the other on the same GPU, then one ratio line
# per case. Prints JSON lines; RESULTS=<file> also writes them there.
#
# Needs on that machine (each missing one is named, and what can still run, runs):
#   - the NVIDIA driver with its Vulkan ICD (a container needs NVIDIA_DRIVER_CAPABILITIES with `graphics`)
#   - python3 with torch built for CUDA                      (else: no PyTorch lines, no ratio)
#   - Node 20+, the webgpu package, the Vulkan loader        (else: from .gpu/, packed here by prepare.sh)
#   - .gpu/webgpu-bench.mjs                                  (prepare.sh; or this repo's node_modules, then bundled here)
# Environment: PRESETS (small,base) BATCHES (64) STEPS (10) KERNELS (dapple; dapple,tfjs adds TF.js' own kernels)
# F16 (0,1: fp32 and mixed-f16, i.e. f16 conv tiles with dynamic loss scaling; 0 for fp32 only) TORCH_TIMEOUT (180 s) WEBGPU_TIMEOUT (360 s) RESULTS.
set -u
cd "$(dirname "$0")/../../../.."
export PRESETS=${PRESETS:-small,base} BATCHES=${BATCHES:-64} STEPS=${STEPS:-10}
export KERNELS=${KERNELS:-dapple} F16=${F16:-0,1}
RESULTS=${RESULTS:-}
W=${TMPDIR:-/tmp}/dapple-gpu-bench
rm -rf "$W" && mkdir -p "$W"
lines=$W/lines.jsonl
: >"$lines"
note() { echo "# $*" >&2; }
emit() { tee -a "$lines"; }

note "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo 'nvidia-smi not found (not an NVIDIA machine, or no driver)')"

# --- PyTorch
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  note "pytorch: $(python3 -c 'import torch; print(torch.__version__, torch.cuda.get_device_name())')"
  PYTHONUNBUFFERED=1 timeout "${TORCH_TIMEOUT:-180}" python3 packages/models/bench/gpu/torch_unet.py | emit
  note "pytorch exit ${PIPESTATUS[0]}"
else
  note "pytorch: skipped: python3 has no torch with a CUDA device (pip install torch there, or carry its wheels)"
fi

# --- Node
node_bin=
if command -v node >/dev/null && node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
  node_bin=$(command -v node)
elif [ -f .gpu/node.xz ]; then
  xz -dc .gpu/node.xz >"$W/node" && chmod +x "$W/node" && node_bin=$W/node
fi
# --- the bench bundle and the webgpu package beside it
bundle=.gpu/webgpu-bench.mjs
if [ ! -f "$bundle" ] && [ -x node_modules/.bin/esbuild ]; then bash packages/models/bench/gpu/bundle.sh >/dev/null; fi
mkdir -p "$W/node_modules"
if [ -f .gpu/node_modules/webgpu/dist/linux-x64/dawn.node.xz ]; then
  cp -r .gpu/node_modules/webgpu "$W/node_modules/" && xz -d "$W/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
elif [ -f node_modules/webgpu/dist/linux-x64/dawn.node ]; then
  cp -r node_modules/webgpu "$W/node_modules/"
fi
# --- Vulkan: the loader (unpacked beside the bench, not into /) and the NVIDIA ICD manifest
# (libGLdispatch from libglvnd0 is what NVIDIA's Vulkan ICD, libGLX_nvidia, links against.) Only what is missing.
has_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
for deb in .gpu/debs/*.deb; do
  [ -f "$deb" ] || continue
  case "${deb##*/}" in
  libvulkan1_*) lib='libvulkan\.so\.1' ;; libglvnd0_*) lib='libGLdispatch\.so\.0' ;;
  libegl1_*) lib='libEGL\.so\.1' ;; libglx0_*) lib='libGLX\.so\.0' ;; *) lib='' ;;
  esac
  { [ -n "$lib" ] && has_lib "$lib"; } || dpkg -x "$deb" "$W/vk"
done
[ -d "$W/vk" ] && export LD_LIBRARY_PATH="$W/vk/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
    /etc/vulkan/icd.d/nvidia_icd.json; do
    [ -f "$icd" ] && export VK_DRIVER_FILES=$icd && break
  done
fi
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}

missing=()
[ -n "$node_bin" ] || missing+=("Node 20+ (or .gpu/node.xz)")
[ -f "$bundle" ] || missing+=(".gpu/webgpu-bench.mjs")
[ -d "$W/node_modules/webgpu" ] || missing+=("the webgpu package (or .gpu/node_modules/webgpu)")
{ has_lib 'libvulkan\.so\.1' || [ -f "$W/vk/usr/lib/x86_64-linux-gnu/libvulkan.so.1" ]; } || missing+=("the Vulkan loader libvulkan.so.1 (or .gpu/debs)")
[ -n "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] || note "no NVIDIA Vulkan ICD manifest found: Dawn sees only the Vulkan drivers the loader finds by itself"
if [ ${#missing[@]} -gt 0 ]; then
  note "webgpu: skipped: missing $(IFS=,; echo "${missing[*]}"); run packages/models/bench/gpu/prepare.sh on a machine with the repo's node_modules and bring .gpu/"
else
  cp "$bundle" "$W/"
  (cd "$W" && timeout "${WEBGPU_TIMEOUT:-360}" "$node_bin" webgpu-bench.mjs) | emit
  note "webgpu exit ${PIPESTATUS[0]}"
fi

# --- ratios: WebGPU over PyTorch fp32 (and bf16), per preset and batch, from the lines above
if [ -n "$node_bin" ]; then
  "$node_bin" - "$lines" <<'EOF' | emit
const lines = require('fs').readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const train = lines.filter((l) => l.bench === 'diffusion.gpu.train' && l.imgPerSec > 0 && !l.error);
const ratio = (a, b) => (a && b ? +(a / b).toFixed(3) : null);
for (const w of train.filter((l) => l.backend === 'webgpu')) {
  const torch = (kind) => train.find((l) => l.backend === `pytorch-cuda-${kind}` && l.preset === w.preset && l.batch === w.batch);
  const fp32 = torch('fp32'), bf16 = torch('bf16');
  if (!fp32) { console.error(`# no ratio for ${w.preset} at batch ${w.batch}: no PyTorch fp32 line`); continue; }
  console.log(JSON.stringify({ bench: 'diffusion.gpu.ratio', preset: w.preset, batch: w.batch, kernels: w.kernels, f16: w.f16,
    trainVsTorchFp32: ratio(w.imgPerSec, fp32?.imgPerSec), forwardVsTorchFp32: ratio(w.forwardImgPerSec, fp32?.forwardImgPerSec),
    trainVsTorchBf16: ratio(w.imgPerSec, bf16?.imgPerSec), device: fp32.device, loadAvg1m: +require('os').loadavg()[0].toFixed(2) }));
}
EOF
fi
[ -n "$RESULTS" ] && cp "$lines" "$RESULTS" && note "results: $RESULTS"
exit 0
