# libFuzzer targets (CVAGENT_BUILD_FUZZ=ON, clang only). The whole build is then compiled with
# -fsanitize=fuzzer-no-link,address,undefined so the code under test is instrumented for coverage
# and checked by ASan/UBSan; only the fuzz executables link libFuzzer's main.
#
# cvagent_add_fuzz_target(<name>
#                         SOURCES <files...>
#                         [LIBRARIES <targets...>]
#                         [SEEDS <files or directories...>]
#                         [SPLIT_LINES <n>]
#                         [MAX_LEN <bytes>])
#
# Builds fuzz_<name> (LLVMFuzzerTestOneInput in SOURCES) and adds two CTest tests labelled `fuzz`:
# - fuzz_<name>_smoke: the target for CVAGENT_FUZZ_SMOKE_SECONDS over its seed corpus (mutating
#   it), new inputs kept in the build dir only;
# - fuzz_<name>_regressions: every reproducer under the folder's fuzz/regressions/<name>/ run once
#   (only when that folder exists). A crash the fuzzer finds is saved there (and, where the
#   plugin has unit tests, also becomes a unit test).
# The seed corpus is made at configure time from SEEDS by cmake/fuzz_seeds.py: each file is a seed
# (truncated to MAX_LEN), or, with SPLIT_LINES n, each window of n consecutive lines of a
# line-oriented fixture is one (the targets that take lines split their input on '\n').
set(CVAGENT_FUZZ_SMOKE_SECONDS 20 CACHE STRING "Seconds each fuzz target runs in the CTest smoke test")

function(cvagent_add_fuzz_target name)
  if(NOT CVAGENT_BUILD_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "SPLIT_LINES;MAX_LEN" "SOURCES;LIBRARIES;SEEDS" ${ARGN})
  if(NOT ARG_MAX_LEN)
    set(ARG_MAX_LEN 4096)
  endif()
  if(NOT ARG_SPLIT_LINES)
    set(ARG_SPLIT_LINES 0)
  endif()
  set(target fuzz_${name})
  add_executable(${target} ${ARG_SOURCES})
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${target} PRIVATE ${ARG_LIBRARIES})
  target_link_options(${target} PRIVATE -fsanitize=fuzzer)
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  add_dependencies(cvagent_fuzz_targets ${target})

  set(corpus ${CMAKE_BINARY_DIR}/fuzz/corpus/${name})
  set(seeds ${corpus}/seeds)
  set(seed_paths "")
  foreach(seed IN LISTS ARG_SEEDS)
    if(NOT IS_ABSOLUTE ${seed})
      set(seed ${CMAKE_CURRENT_SOURCE_DIR}/${seed})
    endif()
    if(NOT EXISTS ${seed})
      message(FATAL_ERROR "cvagent_add_fuzz_target(${name}): seed ${seed} does not exist")
    endif()
    list(APPEND seed_paths ${seed})
  endforeach()
  execute_process(
    COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/cmake/fuzz_seeds.py --out ${seeds}
            --split-lines ${ARG_SPLIT_LINES} --max-len ${ARG_MAX_LEN} ${seed_paths}
    RESULT_VARIABLE seeds_result)
  if(NOT seeds_result EQUAL 0)
    message(FATAL_ERROR "cvagent_add_fuzz_target(${name}): making the seed corpus failed")
  endif()
  file(MAKE_DIRECTORY ${corpus}/found ${corpus}/artifacts)

  # New inputs go to found/ (first corpus dir), seeds/ is only read; crashes to artifacts/.
  add_test(NAME ${target}_smoke
    COMMAND ${target} -max_total_time=${CVAGENT_FUZZ_SMOKE_SECONDS} -max_len=${ARG_MAX_LEN}
            -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
            -artifact_prefix=${corpus}/artifacts/ ${corpus}/found ${seeds})
  set_tests_properties(${target}_smoke PROPERTIES LABELS fuzz
    TIMEOUT 300 ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  set(regressions ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/regressions/${name})
  if(EXISTS ${regressions})
    file(GLOB reproducers ${regressions}/*)
    add_test(NAME ${target}_regressions COMMAND ${target} -runs=1 ${reproducers})
    set_tests_properties(${target}_regressions PROPERTIES LABELS fuzz TIMEOUT 120)
  endif()
endfunction()

if(CVAGENT_BUILD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CVAGENT_BUILD_FUZZ needs clang (libFuzzer): "
                        "-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++")
  endif()
  if(CVAGENT_SANITIZE OR CVAGENT_TSAN)
    message(FATAL_ERROR "CVAGENT_BUILD_FUZZ brings its own sanitizers: leave CVAGENT_SANITIZE / CVAGENT_TSAN off")
  endif()
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # `cmake --build <dir> --target cvagent_fuzz_targets` builds the fuzz executables and only
  # what they link.
  add_custom_target(cvagent_fuzz_targets)
endif()
