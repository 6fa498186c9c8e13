#!/usr/bin/env bash
# Regenerates the options table of every plugin README from the plugin's schema (the conformance
# test fails when a committed table differs). Usage: scripts/update-readme-tables.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build/test}
agent="$build/bin/cvagent"
[[ -x "$agent" ]] || { echo "build first: $agent not found" >&2; exit 2; }
replace_table() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2].rstrip("\n")
text = open(path).read()
begin, end = "<!-- options:begin -->", "<!-- options:end -->"
if begin not in text or end not in text:
    sys.exit(f"{path}: no {begin} / {end} markers")
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
new = f"{head}{begin}\n{table}\n{end}{tail}"
if new != text:
    open(path, "w").write(new)
    print(f"updated {path}")
PY
}
replace_table "$root/docs/configuration.md" "$("$agent" config core-options)"
for readme in "$root"/plugins/*/*/README.md; do
  dir=$(dirname "$readme")
  id="$(basename "$(dirname "$dir")").$(basename "$dir")"
  table=$("$agent" plugins describe "$id" --format markdown 2>/dev/null) || {
    echo "skip $id (not built)" >&2
    continue
  }
  replace_table "$readme" "$table"
done
