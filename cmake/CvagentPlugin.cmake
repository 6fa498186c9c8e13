# cvagent_add_plugin(<input|processor|output> <name>
#                    SOURCES <files...>
#                    [LIBRARIES <targets...>]
#                    [REQUIRES <dependencies...>]
#                    [TESTS <label> <files...> [<label> <files...>]...]
#                    [BENCH <files...>])
#
# Everything one plugin folder needs, so its CMakeLists.txt says only what is particular to it:
#
# - SOURCES: the plugin's code, entry point (plugin.cc) included. Compiled once into the object
#   library cvagent_<kind>_<name>_lib (this folder on its include path), which the module
#   libcvagent_<kind>_<name>.so, the tests and the benchmark all link; plugin.cc goes into the
#   module only (a one-file plugin has its entry point in the library).
# - LIBRARIES: what the code links (imported targets, plugins/common libraries).
# - REQUIRES: what must be found before anything is built; a missing one is a configure-time error
#   naming the plugin. `pkg:<module>` is a pkg-config module (imported as PkgConfig::<module> and
#   linked), `<Package>` a find_package() package (link its targets in LIBRARIES), a `cvagent_...`
#   or `cvagent::...` name a library of this build (plugins/common).
# - TESTS: GoogleTest executables, one per CTest label (unit, integration): test_<kind>_<name>_<label>
#   from the files after the label. They link the plugin's code, GoogleTest and the testing kit
#   (cvagent/testing/, including bindOptions) and see four definitions:
#     CVAGENT_TEST_DATA         this plugin's tests/data
#     CVAGENT_SHARED_TEST_DATA  the project's tests/data (fixtures several plugins read)
#     CVAGENT_TEST_FAKES        the project's tests/fakes (servers several plugins' tests run)
#     CVAGENT_PLUGIN_DIR        this plugin's folder (for its own fakes, e.g. tests/fake_exchange.py)
#   A tests/lsan.supp in the folder is given to LeakSanitizer.
# - BENCH: a Google Benchmark executable bench_<kind>_<name>, with the same definitions and the
#   plugin's tests/ on its include path (for the tests' helpers).
#
# Tests and benchmarks are built when CVAGENT_BUILD_TESTS / CVAGENT_BUILD_BENCH are on (the default
# for a third-party project, which has neither). The module is built with hidden visibility (only
# the entry symbol is exported) and installed where the agent looks for plugins. Used in the
# cvagent tree and, through find_package(cvagent), by third-party plugins:
#
#   find_package(cvagent REQUIRED)
#   cvagent_add_plugin(output myoutput SOURCES my_output.cc)
function(cvagent_add_plugin kind name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES;REQUIRES;TESTS;BENCH" ${ARGN})
  if(NOT kind MATCHES "^(input|processor|output)$")
    message(FATAL_ERROR "cvagent_add_plugin: kind must be input, processor or output, not '${kind}'")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "cvagent_add_plugin(${kind} ${name}): SOURCES is empty")
  endif()
  set(plugin_id ${kind}s.${name})
  set(target cvagent_${kind}_${name})

  set(found_libraries "")
  foreach(dep IN LISTS ARG_REQUIRES)
    _cvagent_require(${plugin_id} "${dep}" lib)
    list(APPEND found_libraries ${lib})
  endforeach()

  # The code once, for the module, the tests and the benchmark; the entry point (plugin.cc) only in
  # the module, so a test may link several plugins' code.
  set(entry_sources ${ARG_SOURCES})
  list(FILTER entry_sources INCLUDE REGEX "(^|/)plugin\\.cc$")
  set(code_sources ${ARG_SOURCES})
  list(FILTER code_sources EXCLUDE REGEX "(^|/)plugin\\.cc$")
  if(NOT code_sources)
    set(code_sources ${entry_sources})
    set(entry_sources "")
  endif()
  add_library(${target}_lib OBJECT ${code_sources})
  target_include_directories(${target}_lib PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${target}_lib PUBLIC cvagent::plugin_api ${found_libraries} ${ARG_LIBRARIES})
  set_target_properties(${target}_lib PROPERTIES
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)

  add_library(${target} MODULE ${entry_sources})
  target_link_libraries(${target} PRIVATE ${target}_lib)
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME ${target}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(DEFINED CVAGENT_PLUGIN_BUILD_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CVAGENT_PLUGIN_BUILD_DIR})
  endif()
  if(NOT DEFINED CVAGENT_PLUGIN_INSTALL_DIR)
    # Where the agent looks by default: <prefix>/bin/../lib/cvagent/plugins.
    set(CVAGENT_PLUGIN_INSTALL_DIR lib/cvagent/plugins)
  endif()
  install(TARGETS ${target} LIBRARY DESTINATION ${CVAGENT_PLUGIN_INSTALL_DIR})

  set(data_definitions
    CVAGENT_TEST_DATA="${CMAKE_CURRENT_SOURCE_DIR}/tests/data"
    CVAGENT_SHARED_TEST_DATA="${PROJECT_SOURCE_DIR}/tests/data"
    CVAGENT_TEST_FAKES="${PROJECT_SOURCE_DIR}/tests/fakes"
    CVAGENT_PLUGIN_DIR="${CMAKE_CURRENT_SOURCE_DIR}")

  if(ARG_TESTS AND (NOT DEFINED CVAGENT_BUILD_TESTS OR CVAGENT_BUILD_TESTS))
    if(NOT TARGET GTest::gtest_main)
      find_package(GTest REQUIRED)
    endif()
    include(GoogleTest)
    set(extra_properties "")
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/tests/lsan.supp)
      set(extra_properties ENVIRONMENT
          "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/tests/lsan.supp")
    endif()
    set(label "")
    set(files "")
    foreach(item IN LISTS ARG_TESTS ITEMS __end__)
      if(NOT item MATCHES "^(unit|integration|__end__)$")
        if(NOT label)
          message(FATAL_ERROR "cvagent_add_plugin(${kind} ${name}): TESTS must start with a "
                              "label (unit or integration), not '${item}'")
        endif()
        list(APPEND files ${item})
        continue()
      endif()
      if(label)
        if(NOT files)
          message(FATAL_ERROR "cvagent_add_plugin(${kind} ${name}): TESTS ${label} has no files")
        endif()
        set(test_target test_${kind}_${name}_${label})
        add_executable(${test_target} ${files})
        target_link_libraries(${test_target} PRIVATE ${target}_lib cvagent::yaml
          GTest::gtest GTest::gtest_main $<TARGET_NAME_IF_EXISTS:cvagent_test_common>)
        target_compile_definitions(${test_target} PRIVATE ${data_definitions})
        gtest_discover_tests(${test_target} DISCOVERY_TIMEOUT 30
          PROPERTIES LABELS ${label} ${extra_properties})
      endif()
      set(label ${item})
      set(files "")
    endforeach()
  endif()

  if(ARG_BENCH AND (NOT DEFINED CVAGENT_BUILD_BENCH OR CVAGENT_BUILD_BENCH))
    if(NOT TARGET benchmark::benchmark)
      find_package(benchmark REQUIRED)
    endif()
    add_executable(bench_${kind}_${name} ${ARG_BENCH})
    target_link_libraries(bench_${kind}_${name} PRIVATE ${target}_lib benchmark::benchmark)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/tests)
      # Benchmarks reuse the tests' helpers (a mock cluster, a server fixture).
      target_include_directories(bench_${kind}_${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tests)
    endif()
    if(EXISTS ${PROJECT_SOURCE_DIR}/tests/common)  # the shared test helpers (free_port.h)
      target_include_directories(bench_${kind}_${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/common)
    endif()
    target_compile_definitions(bench_${kind}_${name} PRIVATE ${data_definitions})
  endif()
endfunction()

# Finds one REQUIRES entry of `plugin_id`; sets `out_var` to the target to link ("" when the
# plugin links it itself through LIBRARIES).
function(_cvagent_require plugin_id dep out_var)
  set(hint "install it (scripts/install-deps.sh) or leave the plugin out with -DCVAGENT_PLUGIN_FILTER")
  if(dep MATCHES "^pkg:(.+)$")
    set(module ${CMAKE_MATCH_1})
    find_package(PkgConfig QUIET)
    if(PkgConfig_FOUND)
      pkg_check_modules(${module} QUIET IMPORTED_TARGET GLOBAL ${module})
    endif()
    if(NOT TARGET PkgConfig::${module})
      message(FATAL_ERROR "plugin ${plugin_id} needs the pkg-config module '${module}', which "
                          "was not found: ${hint}")
    endif()
    set(${out_var} PkgConfig::${module} PARENT_SCOPE)
  elseif(dep MATCHES "^cvagent(_|::)")
    if(NOT TARGET ${dep})
      message(FATAL_ERROR "plugin ${plugin_id} needs the library '${dep}', which this build "
                          "does not define (plugins/common is added before the plugins)")
    endif()
    set(${out_var} ${dep} PARENT_SCOPE)
  else()
    find_package(${dep} QUIET)
    if(NOT ${dep}_FOUND)
      message(FATAL_ERROR "plugin ${plugin_id} needs the package '${dep}', which was not found: "
                          "${hint}")
    endif()
    set(${out_var} "" PARENT_SCOPE)
  endif()
endfunction()

# cvagent_plugins_built(<out_var> <kind>s/<name>...): TRUE when every named plugin is part of this
# build (its folder exists and CVAGENT_PLUGIN_FILTER selects it), whatever the order in which the
# folders are added. For tests that run several plugins through the agent.
function(cvagent_plugins_built out_var)
  get_property(selected GLOBAL PROPERTY CVAGENT_SELECTED_PLUGINS)
  set(result TRUE)
  foreach(plugin IN LISTS ARGN)
    if(NOT plugin IN_LIST selected)
      set(result FALSE)
    endif()
  endforeach()
  set(${out_var} ${result} PARENT_SCOPE)
endfunction()
