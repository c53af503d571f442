#!/usr/bin/env bash
# Every GPU measurement of gputrain in one command, for a machine with a GPU
# and no Go toolchain. Prepare the binaries on a development machine with
# bench/build-for-gpu.sh, carry the folder over, then:
#
#   on-gpu.sh [--reduced] BIN OUT
#
# BIN holds gputrain and gpu.test (and optionally sysroot/, a Vulkan loader
# unpacked by build-for-gpu.sh --loader); OUT receives at most 8 files:
#
#   devices.json   gputrain devices --json: adapters, API, driver, limits
#   check.json     gputrain check --json: the full conformance suite
#   sweep.json     gputrain bench, batch 1…8192, --autotune (and
#   sweep.png      samples/s against batch size)
#   models.jsonl   gputrain bench --models N, N = 1…1024 (one JSON object a
#                  line), then bench/torch_ensemble.py's when python3 has
#                  PyTorch (on CUDA where it has CUDA)
#   seed.json      gputrain bench --preset seed on the GPU and the CPU
#   kernels.csv    the gpu package's kernel benchmarks (4096³ matmul, and
#                  every product of a step under each kernel configuration)
#   torch.json     bench/torch_mlp.py, when python3 has PyTorch
#
# Each step has a time limit and the whole run stops within BUDGET seconds
# (default 540); a step that fails or runs out of time is reported and the
# rest still run. Exit status 1 when any step failed, 2 on usage errors.
#
# --reduced is the CI mode: the same steps on a software adapter with tiny
# sizes (check --quick, one batch size, 5 seed steps, one small matmul
# benchmark), so that the script is run and cannot rot.
#
# Environment: DEVICE (default gpu; software with --reduced), BUDGET,
# PYTHON (default: the first of python3 and /usr/bin/python3 that imports
# torch, so a pyenv or venv python3 first in PATH does not hide Debian's
# python3-torch). The Vulkan loader is found on the system, or in
# BIN/sysroot (put on LD_LIBRARY_PATH); when the loader finds no driver and
# /usr/local/nvidia/share/vulkan/icd.d holds one (NVIDIA containers),
# VK_DRIVER_FILES points at it.
set -uo pipefail

reduced=0
if [ "${1:-}" = --reduced ]; then reduced=1; shift; fi
if [ $# -ne 2 ]; then
  sed -n '2,/^set /p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
bin=$(cd "$1" && pwd) || exit 2
mkdir -p "$2" && out=$(cd "$2" && pwd) || exit 2
for f in gputrain gpu.test; do
  if [ ! -x "$bin/$f" ]; then echo "on-gpu: $bin/$f is missing (bench/build-for-gpu.sh builds it)" >&2; exit 2; fi
done
device=${DEVICE:-gpu}
budget=${BUDGET:-540}
python=${PYTHON:-}
if [ -z "$python" ]; then
  python=python3
  for p in python3 /usr/bin/python3; do
    if "$p" -c 'import torch' 2>/dev/null; then python=$p; break; fi
  done
fi
if [ $reduced = 1 ]; then
  device=${DEVICE:-software}
  budget=${BUDGET:-120}
fi

# The Vulkan loader: a copy unpacked beside the binaries, else the system's.
arch=$(uname -m)-linux-gnu
for d in "$bin/sysroot/usr/lib/$arch" "$bin/sysroot/usr/lib" /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  if [ -d "$d" ]; then export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
done
loader=""
for d in ${LD_LIBRARY_PATH:+${LD_LIBRARY_PATH//:/ }}; do
  if [ -e "$d/libvulkan.so.1" ]; then loader="$d/libvulkan.so.1"; break; fi
done
if [ -z "$loader" ] && command -v ldconfig >/dev/null && ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
  loader="system ($(ldconfig -p | grep -m1 'libvulkan\.so\.1 ' | sed 's/.*=> //'))"
fi
echo "on-gpu: Vulkan loader: ${loader:-none found (bench/build-for-gpu.sh --loader DIR carries one)}" >&2
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  icds=$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json /usr/local/share/vulkan/icd.d/*.json 2>/dev/null | grep -v -e lvp_icd -e intel -e radeon || true)
  nv=$(ls /usr/local/nvidia/share/vulkan/icd.d/*.json 2>/dev/null | head -1 || true)
  if [ -z "$icds" ] && [ -n "$nv" ]; then
    export VK_DRIVER_FILES=$nv VK_ICD_FILENAMES=$nv
    echo "on-gpu: no hardware Vulkan driver registered; VK_DRIVER_FILES=$nv" >&2
  fi
fi

# Caches go to a scratch folder, not the user's and not OUT.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export GPUTRAIN_TUNE_CACHE=$scratch/autotune.json GPUTRAIN_CHECK_CACHE=$scratch/checks.json
export GPUTRAIN_REQUIRE_GPU=1 GPUTRAIN_TEST_DEVICE=$device

start=$(date +%s)
failed=()
# step NAME LIMIT STDOUT CMD...: runs CMD with stdout to STDOUT (a file
# name in OUT, or an absolute path) for at most LIMIT seconds and what is
# left of the budget.
step() {
  local name=$1 limit=$2 stdout=$3
  shift 3
  local left=$((budget - ($(date +%s) - start) - 5))
  if [ "$left" -lt 10 ]; then
    echo "on-gpu: $name: not run, the ${budget} s budget is spent" >&2
    failed+=("$name (no time left)")
    return 1
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "on-gpu: $name (at most ${limit} s): $*" >&2
  local t0 rc
  t0=$(date +%s)
  case $stdout in /*) ;; *) stdout=$out/$stdout ;; esac
  timeout -k 5 "$limit" "$@" >"$stdout"
  rc=$?
  echo "on-gpu: $name: exit status $rc after $(($(date +%s) - t0)) s" >&2
  if [ $rc -ne 0 ]; then
    [ $rc = 124 ] && failed+=("$name (ran out of its ${limit} s)") || failed+=("$name (exit status $rc)")
    return 1
  fi
}

g="$bin/gputrain"
if [ $reduced = 1 ]; then
  check=(--quick)
  sweep=(--batch 8 --hidden 16 --steps 2 --reps 1)
  models=(1 4)
  modelsrun=(--steps 2 --reps 1)
  ensemble=(--models 1,4 --reps 1 --rep-seconds 0.01)
  seed=(--steps 5)
  kernels=(-test.bench 'MatMul/square_256$' -test.benchtime 1x)
  torch=(--device cpu --steps 2 --reps 1 --seed-steps 20 --batches 8 --matmul 256 --no-compile)
else
  check=()
  sweep=(--batch 1,8,32,64,128,512,2048,4096,8192)
  models=(1 16 64 256 1024)
  modelsrun=(--reps 5)
  ensemble=(--models 1,16,64,256,1024)
  seed=()
  kernels=(-test.bench . -test.benchtime 20x)
  torch=()
fi

step devices 30 devices.json "$g" devices --json
step check 120 check.json "$g" check --device "$device" --json "${check[@]}"
# The check above is the verification: the benchmarks run whatever it said.
step sweep 150 sweep.json "$g" bench --device "$device" --data random --autotune --verify=false \
  --json --plot "$out/sweep.png" "${sweep[@]}"
# Model arrays: the digits workload of bench/torch_ensemble.py, one JSON
# object a line.
step models 120 models.jsonl bash -c 'g=$1; d=$2; shift 2; for n in '"${models[*]}"'; do
  "$g" bench --device "$d" --data digits --models "$n" --batch 32 --hidden 128,64 --verify=false --json "$@" || exit; done' \
  models "$g" "$device" "${modelsrun[@]}"
step seed 90 seed.json "$g" bench --preset seed --device "$device,cpu" --verify=false --json "${seed[@]}"
# Kernel benchmarks: the test binary's text output (kept in the log)
# becomes one CSV row per metric: benchmark, iterations, value, unit.
step kernels 240 "$scratch/kernels.txt" env GPUTRAIN_BENCH_LARGE=1 "$bin/gpu.test" -test.run '^$' "${kernels[@]}"
cat "$scratch/kernels.txt" >&2
awk 'BEGIN { print "benchmark,iterations,value,unit" }
     /^Benchmark/ { for (i = 3; i + 1 <= NF; i += 2) printf "%s,%s,%s,%s\n", $1, $2, $i, $(i + 1) }' \
  "$scratch/kernels.txt" >"$out/kernels.csv"
if "$python" -c 'import torch' 2>/dev/null; then
  here=$(dirname "$0")
  peer=$here/torch_mlp.py
  [ -f "$peer" ] || peer=$bin/torch_mlp.py
  if ! step torch 150 torch.json "$python" "$peer" "${torch[@]}"; then
    step torch-eager 90 torch.json "$python" "$peer" --no-compile "${torch[@]}" && unset 'failed[-1]'
  fi
  ens=$here/torch_ensemble.py
  [ -f "$ens" ] || ens=$bin/torch_ensemble.py
  cuda=$("$python" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")' 2>/dev/null)
  step torch-ensemble 60 "$scratch/ensemble.json" "$python" "$ens" --device "${cuda:-cpu}" --json "${ensemble[@]}" &&
    cat "$scratch/ensemble.json" >>"$out/models.jsonl"
else
  echo "on-gpu: torch: skipped, $python has no PyTorch" >&2
fi

echo "on-gpu: $(($(date +%s) - start)) s in all; results in $out:" >&2
ls -l "$out" >&2
if [ ${#failed[@]} -gt 0 ]; then
  echo "on-gpu: failed: ${failed[*]}" >&2
  exit 1
fi
