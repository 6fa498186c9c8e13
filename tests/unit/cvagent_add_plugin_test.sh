#!/usr/bin/env bash
# cmake/CvagentPlugin.cmake: a plugin whose dependency is missing stops the configuration with a
# message naming the plugin; one with its dependencies configures, with its tests and benchmark
# under the one naming scheme.
set -euo pipefail
: "${CVAGENT_SOURCE_DIR:?}"
work=$(mktemp -d /tmp/cvagent-add-plugin.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

project() {  # project <dir> <cvagent_add_plugin arguments...>
  mkdir -p "$1/tests"
  : >"$1/demo.cc"
  : >"$1/plugin.cc"
  : >"$1/tests/demo_test.cc"
  cat >"$1/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(demo CXX)
include($CVAGENT_SOURCE_DIR/cmake/CvagentPlugin.cmake)
add_library(cvagent_plugin_api INTERFACE)
add_library(cvagent::plugin_api ALIAS cvagent_plugin_api)
add_library(cvagent::yaml ALIAS cvagent_plugin_api)
add_library(GTest::gtest INTERFACE IMPORTED)
add_library(GTest::gtest_main INTERFACE IMPORTED)
set(CVAGENT_BUILD_TESTS ON)
set(CVAGENT_BUILD_BENCH OFF)
cvagent_add_plugin(${*:2})
CMAKE
}

project "$work/missing" input demo SOURCES demo.cc plugin.cc REQUIRES pkg:cvagent-no-such-module
if cmake -S "$work/missing" -B "$work/missing/build" >"$work/missing.log" 2>&1; then
  fail "a missing pkg-config module configured"
fi
grep -q "plugin inputs.demo needs the pkg-config module 'cvagent-no-such-module'" \
  "$work/missing.log" || { cat "$work/missing.log" >&2; fail "the error does not name the plugin"; }

project "$work/nolib" output demo SOURCES demo.cc REQUIRES cvagent_common_nothing
cmake -S "$work/nolib" -B "$work/nolib/build" >"$work/nolib.log" 2>&1 && fail "a missing library configured"
grep -q "plugin outputs.demo needs the library 'cvagent_common_nothing'" "$work/nolib.log" ||
  { cat "$work/nolib.log" >&2; fail "the error does not name the plugin"; }

project "$work/ok" processor demo SOURCES demo.cc plugin.cc TESTS unit tests/demo_test.cc
cmake -S "$work/ok" -B "$work/ok/build" -G Ninja >"$work/ok.log" 2>&1 ||
  { cat "$work/ok.log" >&2; fail "a complete plugin does not configure"; }
targets=$(ninja -C "$work/ok/build" -t targets all)
for t in cvagent_processor_demo cvagent_processor_demo_lib test_processor_demo_unit; do
  grep -q "^$t:" <<<"$targets" || fail "no target $t"
done
echo "ok"
