#!/usr/bin/env bash
# The installed SDK: `cmake --install` lays out bin/, the plugins, headers and the CMake package;
# a third-party plugin configured out of tree against that prefix builds, and the installed agent
# (which finds its own plugins with no flag) loads and runs it.
source "$(dirname "$0")/lib.sh"
: "${CVAGENT_BUILD_DIR:?}" "${CVAGENT_SOURCE_DIR:?}"

prefix="$WORK/prefix"
cmake --install "$CVAGENT_BUILD_DIR" --prefix "$prefix" >"$WORK/install.log" 2>&1 || fail "install failed"
# The SDK's library dir: lib, or lib/<multiarch> when the build's prefix is /usr (GNUInstallDirs).
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$CVAGENT_BUILD_DIR/CMakeCache.txt")
for f in bin/cvagent lib/cvagent/plugins/libcvagent_output_file.so \
  include/cvagent/plugin.h include/cvagent/version.h include/cvagent/testing/capturing_emitter.h \
  "${libdir:-lib}/cmake/cvagent/cvagentConfig.cmake" "${libdir:-lib}/cmake/cvagent/CvagentPlugin.cmake" \
  "${libdir:-lib}/libcvagent_plugin_api.a"; do
  [[ -e "$prefix/$f" ]] || fail "install lacks $f"
done
"$prefix/bin/cvagent" plugins list >"$WORK/list.log" 2>&1 || fail "plugins list"
grep -q "^inputs.file " "$WORK/list.log" || fail "the installed agent does not find its plugins"

cmake -S "$CVAGENT_SOURCE_DIR/plugin-api/examples/third-party-plugin" -B "$WORK/example" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$WORK/configure.log" 2>&1 ||
  fail "the example does not configure against the installed SDK"
cmake --build "$WORK/example" >"$WORK/build.log" 2>&1 || fail "the example does not build"
[[ -f "$WORK/example/libcvagent_processor_scale.so" ]] || fail "no plugin library"

printf '{"name":"trade","tags":{},"fields":{"price":1.25},"time":1}\n' >"$WORK/in.jsonl"
cat >"$WORK/p.yaml" <<YAML
agent: {http: "", state_dir: $WORK/state}
inputs:
  - file: {path: $WORK/in.jsonl}
processors:
  - scale: {fields: [price], factor: 100}
outputs:
  - file: {path: $WORK/out.jsonl}
YAML
"$prefix/bin/cvagent" --plugin-dir "$WORK/example" plugins describe processors.scale >"$WORK/describe.log" ||
  fail "describe"
grep -q "Multiplies numeric fields" "$WORK/describe.log" || fail "describe output"
"$prefix/bin/cvagent" --plugin-dir "$WORK/example" -c "$WORK/p.yaml" --once 2>"$WORK/run.log" ||
  fail "the pipeline with the third-party plugin failed"
grep -q '"price_scaled":125.0' "$WORK/out.jsonl" || fail "the plugin did not run: $(cat "$WORK/out.jsonl")"
# Without --plugin-dir the plugin is not found: only configured directories are searched.
set +e
"$prefix/bin/cvagent" validate -c "$WORK/p.yaml" 2>"$WORK/nodir.log"
rc=$?
set -e
[[ $rc -eq 2 ]] && grep -q "no plugin processors.scale" "$WORK/nodir.log" || fail "found a plugin outside the configured directories"
echo "sdk: ok"
