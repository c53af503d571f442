#!/usr/bin/env bash
# Prepares a folder that bench/on-gpu.sh runs on a machine with a GPU and no
# Go: the gputrain command, the gpu package's test binary (kernel
# benchmarks), the script itself and the PyTorch peer.
#
#   bench/build-for-gpu.sh [--loader] DIR
#
# --loader also puts Debian's Vulkan loader (libvulkan1) and the GL vendor
# libraries NVIDIA's Vulkan driver loads (libglvnd0, libglx0, libgl1,
# libegl1, libopengl0, libgles2) under DIR/sysroot, unpacked with dpkg -x,
# for machines where no loader is installed system-wide; on-gpu.sh puts
# them on LD_LIBRARY_PATH. It needs apt-get and a Debian/Ubuntu mirror here
# (amd64 packages, whatever this machine's own architecture list says).
set -euo pipefail
cd "$(dirname "$0")/.."

loader=0
if [ "${1:-}" = --loader ]; then loader=1; shift; fi
if [ $# -ne 1 ]; then
  echo "usage: bench/build-for-gpu.sh [--loader] DIR" >&2
  exit 2
fi
out=$1
mkdir -p "$out"
export CGO_ENABLED=1
# Stripped (-s -w: no symbol table or DWARF; panics still print their
# stacks) to keep the folder small enough to copy to a GPU machine.
go build -trimpath -ldflags='-s -w' -o "$out/gputrain" ./cmd/gputrain
go test -c -trimpath -ldflags='-s -w' -o "$out/gpu.test" ./gpu
cp bench/on-gpu.sh bench/torch_mlp.py bench/torch_ensemble.py bench/splitmix.py "$out/"

if [ $loader = 1 ]; then
  debs=$(mktemp -d)
  lists=$(mktemp -d)
  mkdir -p "$lists/partial"
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
  apt-get "${o[@]}" update -qq
  (cd "$debs" && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  for f in "$debs"/*.deb; do dpkg -x "$f" "$out/sysroot"; done
  rm -rf "$debs" "$lists"
fi
du -sh "$out"/* | sed 's/^/build-for-gpu: /'
