# shellcheck shell=sh disable=SC2034  # (sets variables for the sourcing script)
# bench/lib.sh: the set-up the bench scripts share (POSIX sh; sourced, never run). After
#   . "$(dirname "$0")/lib.sh"     # sets $here, the bench folder
#   bench_init "$@"                # [build-dir] [threads=2], the first two arguments of every bench script
# a script has $build (the argument, else $here/../build; a relative one not found here: the repo's), $threads,
# $gb (the CLI, env GLASSBOX overrides), $out (bench/out, created), $data (the shared test data, env
# GLASSBOX_DATA overrides), $crows (CrowS-Pairs' CSV in it) and $py (Debian's python3, where python3-torch
# lives), and calls:
#   m=$(bench_llama134m f32)         # the 134M LLaMA-shaped synthetic model, written once into $out
#   bench_wait_policy                # exports OMP_WAIT_POLICY (ACTIVE unless set; see the comment there)
#   bench_torch || exit 0            # false, after one line saying the PyTorch peer is skipped, when missing

here=$(cd "$(dirname "$0")" && pwd)

bench_init() {
  build=${1:-$here/../build}
  threads=${2:-2}
  case $build in
    /*) ;;
    *) [ -d "$build" ] || build=$here/../$build ;;
  esac
  gb=${GLASSBOX:-$build/cli/glassbox}
  out=$here/out
  mkdir -p "$out"
  data=${GLASSBOX_DATA:-$here/../../shared/data}
  crows=$data/bias/crows-pairs/crows_pairs_anonymized.csv
  py=/usr/bin/python3 # Debian's python3-torch lives with the system interpreter
  [ -x "$py" ] || py=python3
}

# The 134M LLaMA-shaped model (dim 768, 12 layers, 12 heads, FFN 2048, vocab 32000, context 1024) in dtype
# $1 (f32, f16, ...): $out/llama134m-$1.gguf, written by `glassbox synth` when missing; prints its path.
bench_llama134m() {
  _m=$out/llama134m-$1.gguf
  [ -f "$_m" ] || "$gb" synth --arch llama --layers 12 --dim 768 --heads 12 --ff 2048 --vocab 32000 --ctx 1024 \
    --dtype "$1" --seed 1 -o "$_m" >/dev/null || return 1
  echo "$_m"
}

# libgomp's default (active) waiting spins idle workers between parallel regions; on a machine shared with
# other jobs that spinning steals the cores the working threads need (measured at load 5-8: glassbox tg
# 6-8 -> 13 tok/s, pp512 +15% with PASSIVE). Both OpenMP users here (glassbox, PyTorch) get the same policy.
# Default: libgomp's own (active) policy, which is faster on an idle machine (glassbox tg128 52 vs 41 tok/s
# with PASSIVE); on a shared, loaded machine run with OMP_WAIT_POLICY=PASSIVE. PyTorch's peer picks PASSIVE
# (GB_TORCH_WAIT_POLICY overrides): its OpenBLAS threads and OpenMP threads would otherwise spin against each other.
bench_wait_policy() {
  OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-ACTIVE}
  export OMP_WAIT_POLICY
}

# true when $py imports torch; otherwise says the PyTorch peer is skipped and is false
bench_torch() {
  $py -c 'import torch' 2>/dev/null && return 0
  echo "PyTorch peer skipped: python3-torch not installed"
  return 1
}
