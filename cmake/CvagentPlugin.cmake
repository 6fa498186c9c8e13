# cvagent_add_plugin(<input|processor|output> <name> SOURCES <files...> [LIBRARIES <targets...>])
#
# Builds libcvagent_<kind>_<name>.so, a plugin the agent loads with Boost.DLL, with hidden
# visibility (only the entry symbol is exported) and installs it where the agent looks for plugins.
# Used in the cvagent tree and, through find_package(cvagent), by third-party plugins:
#
#   find_package(cvagent REQUIRED)
#   cvagent_add_plugin(output myoutput SOURCES my_output.cc)
function(cvagent_add_plugin kind name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT kind MATCHES "^(input|processor|output)$")
    message(FATAL_ERROR "cvagent_add_plugin: kind must be input, processor or output, not '${kind}'")
  endif()
  set(target cvagent_${kind}_${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE cvagent::plugin_api ${ARG_LIBRARIES})
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
endfunction()
