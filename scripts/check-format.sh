#!/usr/bin/env bash
# Fails when a tracked C++ file is not formatted as .clang-format says (clang-format 14, Debian 12).
#   scripts/check-format.sh            check every tracked .cc/.h
#   scripts/check-format.sh FILES...   check these
# Fix with: clang-format -i <files>   (see what would change: clang-format <file> | diff <file> -)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
clang_format=${CLANG_FORMAT:-clang-format}
if ! command -v "$clang_format" >/dev/null; then
  echo "check-format: $clang_format not found (scripts/install-deps.sh --test installs it)" >&2
  exit 2
fi

if (($# > 0)); then
  files=("$@")
else
  mapfile -t files < <(git ls-files '*.cc' '*.h' '*.cpp' '*.hpp')
fi

unformatted=()
for f in "${files[@]}"; do
  [[ -f $f ]] || continue
  if ! "$clang_format" --dry-run --Werror "$f" >/dev/null 2>&1; then
    unformatted+=("$f")
  fi
done
if ((${#unformatted[@]} > 0)); then
  echo "check-format: ${#unformatted[@]} file(s) not formatted as .clang-format says:" >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  echo "see the changes: for f in <files>; do $clang_format \"\$f\" | diff -u \"\$f\" -; done" >&2
  echo "fix them:        $clang_format -i ${unformatted[*]}" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
