#!/usr/bin/env bash
# The scratch image's root filesystem, assembled in a directory: the one list of what the image
# holds. The Dockerfile runs this script in its build stage and copies the result into
# `FROM scratch`; tests/image_test.ts runs it on the host and chroots into the result, so the
# image that ships and the file system under test are the same files.
#
#   scripts/image_rootfs.sh BINARY OUTDIR     assemble (OUTDIR must not exist or be empty)
#   scripts/image_rootfs.sh --list BINARY     print the files it would hold, one a line
#
# What it holds:
#   /strata              the binary (mode 0755)
#   what `ldd` names     the dynamic loader and the shared libraries, at the paths ldd prints
#   /data                empty, owned by 65532:65532: the working directory for SQLite files
#   /tmp                 empty, mode 1777: SQLite spills large sorts to a temporary directory
#   /proc, /dev          empty mount points (the container runtime mounts them)
# No shell, no package manager, no /etc: nothing the binary does not load.
set -euo pipefail

UID_GID="65532:65532"

usage() {
  echo "usage: $0 BINARY OUTDIR | $0 --list BINARY" >&2
  exit 2
}

# The shared objects the binary needs, as absolute paths (the loader included).
libraries() {
  local binary="$1" out
  if ! out="$(ldd "$binary" 2>&1)"; then
    echo "image_rootfs: ldd $binary failed: $out" >&2
    exit 1
  fi
  if grep -q "not found" <<<"$out"; then
    echo "image_rootfs: $binary needs libraries this system lacks:" >&2
    grep "not found" <<<"$out" >&2
    exit 1
  fi
  # "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)";
  # linux-vdso has no file.
  awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out" | sort -u
}

if [[ "${1:-}" == "--list" ]]; then
  [[ $# -eq 2 ]] || usage
  libs="$(libraries "$2")"
  echo /strata
  echo "$libs"
  printf '%s\n' /data /tmp /proc /dev
  exit 0
fi

[[ $# -eq 2 ]] || usage
binary="$1"
out="$2"
[[ -f "$binary" && -x "$binary" ]] || {
  echo "image_rootfs: $binary is not an executable file" >&2
  exit 1
}
if [[ -e "$out" && -n "$(ls -A "$out")" ]]; then
  echo "image_rootfs: $out exists and is not empty" >&2
  exit 1
fi

# Into a variable first: a failure inside `< <(...)` would not stop the script.
libs="$(libraries "$binary")"
mkdir -p "$out"
install -m 0755 "$binary" "$out/strata"
while read -r lib; do
  # -L: the file, not the distribution's symlink to it; the path stays the one the binary asks for.
  mkdir -p "$out$(dirname "$lib")"
  cp -L "$lib" "$out$lib"
  chmod 0755 "$out$lib"
done <<<"$libs"
mkdir -p "$out/data" "$out/tmp" "$out/proc" "$out/dev"
chmod 0755 "$out/data" "$out/proc" "$out/dev"
chmod 1777 "$out/tmp"
chown "$UID_GID" "$out/data"
