#!/bin/sh
# Builds a native llama.cpp `llama-bench` (-march=native, like glassbox's default build) from the source
# that npm's node-llama-cpp ships (a git bundle), into bench/out/llama.cpp. Only when asked (minutes of
# compile on 2 cores, not in CI); bench_forward.sh then adds it as the native peer beside the npm one.
# Needs: cd bench && npm install --no-save node-llama-cpp (for the bundle), cmake, ninja or make, git.
#
#   bench/native_llamacpp.sh [jobs=2]          # LLAMA_NO_AMX=1: never AMX; LLAMA_SMOKE_MODEL=q4_0.gguf: smoke run
#   bench/out/llama.cpp/build/bin/llama-bench -m bench/out/llama134m-f32.gguf -p 512 -n 128 -t 2
set -eu
here=$(cd "$(dirname "$0")" && pwd)
jobs=${1:-2}
bundle=$here/node_modules/node-llama-cpp/llama/gitRelease.bundle
dst=$here/out/llama.cpp
if [ ! -f "$bundle" ]; then
  echo "no llama.cpp source bundle at $bundle: (cd bench && npm install --no-save node-llama-cpp)" >&2
  exit 2
fi
mkdir -p "$here/out"
[ -d "$dst/.git" ] || git clone --quiet "$bundle" "$dst"
gen=""
command -v ninja >/dev/null 2>&1 && gen="-G Ninja"
cc=${CC:-cc}
# AMX: a CPU can report AMX through CPUID (so -march=native turns on -mamx-*, and ggml builds its AMX
# kernels) while the kernel or hypervisor does not enable the tile state: every AMX instruction then
# faults (SIGILL), i.e. llama.cpp crashes on every quantized model. A tiny probe asks the kernel for the
# tile state (arch_prctl ARCH_REQ_XCOMP_PERM, as ggml does) and runs one tile instruction; if -march=native
# enables AMX and the probe does not exit cleanly (or LLAMA_NO_AMX=1), build without -march=native, with
# the CPU's other x86 features named explicitly and AMX off.
native_amx=no
"$cc" -march=native -dM -E - </dev/null 2>/dev/null | grep -q '__AMX_TILE__' && native_amx=yes
amx_ok=yes
if [ "$native_amx" = yes ]; then
  probe=$(mktemp -d)
  cat >"$probe/amx.c" <<'C'
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  if (syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */) != 0) return 3;
  unsigned char cfg[64] = {1};
  cfg[16] = 64;  /* tile 0: 64 bytes per row, 16 rows */
  cfg[48] = 16;
  _tile_loadconfig(cfg);
  _tile_zero(0);
  _tile_release();
  return 0;
}
C
  if ! "$cc" -O1 -march=native -o "$probe/amx" "$probe/amx.c" 2>/dev/null || ! "$probe/amx" 2>/dev/null; then amx_ok=no; fi
  rm -rf "$probe"
fi
[ "${LLAMA_NO_AMX:-0}" = 1 ] && amx_ok=no
flags="-DGGML_NATIVE=ON"
if [ "$native_amx" = yes ] && [ "$amx_ok" = no ]; then
  # explicit ISA flags for what the compiler's -march=native sees, AMX left out
  have() { "$cc" -march=native -dM -E - </dev/null 2>/dev/null | grep -q "__$1__"; }
  onoff() { if have "$1"; then echo ON; else echo OFF; fi; }
  flags="-DGGML_NATIVE=OFF -DGGML_AVX=$(onoff AVX) -DGGML_AVX2=$(onoff AVX2) -DGGML_FMA=$(onoff FMA) -DGGML_F16C=$(onoff F16C)"
  flags="$flags -DGGML_AVX_VNNI=$(onoff AVXVNNI) -DGGML_AVX512=$(onoff AVX512F) -DGGML_AVX512_VBMI=$(onoff AVX512VBMI)"
  flags="$flags -DGGML_AVX512_VNNI=$(onoff AVX512VNNI) -DGGML_AVX512_BF16=$(onoff AVX512BF16)"
  flags="$flags -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
  echo "native_llamacpp: the CPU reports AMX but an AMX instruction faults here: building without AMX ($flags)" >&2
elif [ "$native_amx" = yes ]; then
  echo "native_llamacpp: AMX enabled by -march=native and working (probe passed)" >&2
else
  echo "native_llamacpp: -march=native has no AMX on this CPU: native build" >&2
fi
# shellcheck disable=SC2086  # $gen is empty or two words, $flags a list
cmake -S "$dst" -B "$dst/build" $gen -DCMAKE_BUILD_TYPE=Release $flags -DLLAMA_CURL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF >/dev/null
cmake --build "$dst/build" --target llama-bench -j "$jobs"
# A smoke run on a quantized model when one is given (LLAMA_SMOKE_MODEL): a crash here is what the AMX
# check above prevents; say so instead of handing bench_forward.sh a binary that dies.
if [ -n "${LLAMA_SMOKE_MODEL:-}" ]; then
  if ! "$dst/build/bin/llama-bench" -m "$LLAMA_SMOKE_MODEL" -p 8 -n 2 -r 1 -t 1 >/dev/null 2>&1; then
    echo "native_llamacpp: llama-bench fails on $LLAMA_SMOKE_MODEL; try LLAMA_NO_AMX=1 $0" >&2
    exit 1
  fi
  echo "native_llamacpp: smoke run on $LLAMA_SMOKE_MODEL passed" >&2
fi
echo "$dst/build/bin/llama-bench"
