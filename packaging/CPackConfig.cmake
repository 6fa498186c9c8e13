# Packaging: a .deb (always) and an .rpm (when rpmbuild is installed) holding the agent, the plugins
# that were built, the plugin SDK, a systemd unit and a default configuration.
#
#   cmake -S . -B build/pkg -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
#         -DCVAGENT_BUILD_TESTS=OFF -DCVAGENT_BUILD_BENCH=OFF
#   cmake --build build/pkg && (cd build/pkg && cpack)        # or: cpack -G DEB
#
# Included at the end of the top CMakeLists.txt, so every install rule of the project exists here.

set(cvagent_packaging_dir ${CMAKE_CURRENT_LIST_DIR})

# System files (unit, /etc config, /var/lib) only make sense for a system-wide install: a
# `cmake --install` into /usr/local or a home directory must not write to /etc or /usr/lib/systemd.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(cvagent_system_default ON)
else()
  set(cvagent_system_default OFF)
endif()
option(CVAGENT_INSTALL_SYSTEM_FILES
       "Install the systemd unit and the default /etc/cvagent configuration"
       ${cvagent_system_default})
set(CVAGENT_SYSTEMD_UNIT_DIR "/usr/lib/systemd/system" CACHE PATH
    "Where the systemd unit is installed (merged /usr: valid on Debian 12 and RPM distributions)")
set(CVAGENT_CONFIG_DIR "/etc/cvagent" CACHE PATH "Configuration directory of the packaged agent")

# The agent looks for its plugins at <dir of the executable>/../lib/cvagent/plugins, and the top
# CMakeLists.txt installs them there whatever CMAKE_INSTALL_LIBDIR is (lib/<multiarch> on Debian).
cmake_path(SET cvagent_expected_plugin_dir NORMALIZE "${CMAKE_INSTALL_BINDIR}/../lib/cvagent/plugins")
cmake_path(SET cvagent_actual_plugin_dir NORMALIZE "${CVAGENT_PLUGIN_INSTALL_DIR}")
if(NOT cvagent_expected_plugin_dir STREQUAL cvagent_actual_plugin_dir)
  message(FATAL_ERROR "cvagent packaging: plugins install to ${CVAGENT_PLUGIN_INSTALL_DIR} but the "
                      "agent looks in ${cvagent_expected_plugin_dir}")
endif()

# The sample market data the example pipelines read (configs/pipeline.yaml uses it by a path
# relative to the repository, the packaged default by its installed path).
install(FILES ${PROJECT_SOURCE_DIR}/configs/data/sample-trades.jsonl
        DESTINATION ${CMAKE_INSTALL_DATADIR}/cvagent/configs/data)
install(FILES ${PROJECT_SOURCE_DIR}/docs/deployment.md ${PROJECT_SOURCE_DIR}/docs/writing-plugins.md
              ${PROJECT_SOURCE_DIR}/docs/configuration.md ${PROJECT_SOURCE_DIR}/LICENSE
              ${PROJECT_SOURCE_DIR}/NOTICE
        DESTINATION ${CMAKE_INSTALL_DOCDIR} OPTIONAL)
# Debian policy: the licence in machine-readable form and the package changelog, compressed with
# gzip -9n (no timestamp, so builds are reproducible).
install(FILES ${cvagent_packaging_dir}/deb/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
set(cvagent_changelog_gz ${CMAKE_BINARY_DIR}/packaging/changelog.Debian.gz)
file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/packaging)
execute_process(COMMAND gzip -9nc ${cvagent_packaging_dir}/deb/changelog
                OUTPUT_FILE ${cvagent_changelog_gz} RESULT_VARIABLE cvagent_gzip_result)
if(NOT cvagent_gzip_result EQUAL 0)
  message(FATAL_ERROR "cvagent packaging: gzip of packaging/deb/changelog failed")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${cvagent_packaging_dir}/deb/changelog)
install(FILES ${cvagent_changelog_gz} DESTINATION ${CMAKE_INSTALL_DOCDIR})

if(CVAGENT_INSTALL_SYSTEM_FILES)
  # Checked again at install time: `cmake --install --prefix /tmp/x` of a /usr build must not
  # write to the real /etc. (DESTDIR, as cpack and staged installs use, is honoured.)
  # cvagent.env holds secrets: systemd reads it as root before dropping privileges, so only root
  # needs to read it.
  install(CODE "
    if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
      file(INSTALL DESTINATION \"${CVAGENT_SYSTEMD_UNIT_DIR}\" TYPE FILE
           FILES \"${cvagent_packaging_dir}/cvagent.service\")
      file(INSTALL DESTINATION \"${CVAGENT_CONFIG_DIR}\" TYPE FILE
           FILES \"${cvagent_packaging_dir}/pipeline.yaml\")
      file(INSTALL DESTINATION \"${CVAGENT_CONFIG_DIR}\" TYPE FILE
           PERMISSIONS OWNER_READ OWNER_WRITE FILES \"${cvagent_packaging_dir}/cvagent.env\")
      # conf.d: pipeline fragments merged after pipeline.yaml (the unit passes --config-dir).
      file(INSTALL DESTINATION \"${CVAGENT_CONFIG_DIR}/conf.d\" TYPE FILE
           FILES \"${cvagent_packaging_dir}/conf.d/README\")
    else()
      message(STATUS \"Skipping the systemd unit and ${CVAGENT_CONFIG_DIR}: the prefix is \"
                     \"\${CMAKE_INSTALL_PREFIX}, not /usr\")
    endif()")
endif()

set(CPACK_PACKAGE_NAME cvagent)
set(CPACK_PACKAGE_VENDOR "cvagent developers")
set(CVAGENT_PACKAGE_MAINTAINER "cvagent maintainers <cvagent-maintainers@example.org>" CACHE STRING
    "Maintainer field of the packages")
set(CPACK_PACKAGE_CONTACT "${CVAGENT_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
# Lines under 80 columns (Debian policy 3.4.1; lintian: extended-description-line-too-long).
string(CONCAT CPACK_PACKAGE_DESCRIPTION
    "cvagent reads a YAML pipeline and chains plugins: inputs (Kraken WebSocket\n"
    "v2, RSS/Atom feeds, Kafka, files) feed ordered processors (normalize, OHLC\n"
    "candles, sentiment, alerts, forecasts) and buffered outputs (Kafka,\n"
    "TimescaleDB, Redis, Prometheus, files) with batching, retries and\n"
    "at-least-once delivery. It exposes /health, /ready and Prometheus /metrics.\n"
    "The package also carries the plugin SDK (headers, static library and CMake\n"
    "package) for building third-party plugins.")
set(CPACK_PACKAGE_INSTALL_DIRECTORY cvagent)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build/" "/build-.*/")

if(NOT CPACK_GENERATOR)
  set(CPACK_GENERATOR DEB)
  find_program(CVAGENT_RPMBUILD rpmbuild)
  if(CVAGENT_RPMBUILD)
    list(APPEND CPACK_GENERATOR RPM)
  endif()
endif()

# --- Debian ---
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies are computed from the binaries actually packaged (the plugin set depends on
# the build), with the versions dpkg-shlibdeps finds. For a package of every plugin on Debian 12
# this yields libyaml-cpp0.7, libspdlog1.10-fmt9, libfmt9, libsimdjson14, libprometheus-cpp-core1.0
# and -pull1.0, librdkafka1, libpqxx-6.4, libpq5, libcurl4, libpugixml1v5, libxml2, libhiredis0.14,
# libprotobuf-lite32, libsnappy1v5, libssl3, zlib1g, libstdc++6, libgcc-s1, libc6.
# CPackDeb needs `file` as well to find the ELF files it hands to dpkg-shlibdeps.
find_program(CVAGENT_DPKG_SHLIBDEPS dpkg-shlibdeps)
find_program(CVAGENT_FILE_PROGRAM file)
if(CVAGENT_DPKG_SHLIBDEPS AND CVAGENT_FILE_PROGRAM)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  # passwd: useradd in postinst.
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
else()
  # Without them (apt install dpkg-dev file; scripts/install-deps.sh does), the Debian 12 names of
  # everything any plugin links, kept equal to the computed list above.
  message(WARNING "cvagent packaging: dpkg-shlibdeps or file missing; a .deb made now gets a "
                  "fixed Depends list for Debian 12 (apt install dpkg-dev file)")
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "passwd, libc6, libstdc++6, libgcc-s1, libyaml-cpp0.7, libspdlog1.10-fmt9, libfmt9, \
libsimdjson14, libprometheus-cpp-core1.0, libprometheus-cpp-pull1.0, librdkafka1, libpqxx-6.4, \
libpq5, libcurl4, libpugixml1v5, libxml2, libhiredis0.14, libprotobuf-lite32, libsnappy1v5, \
libssl3, zlib1g")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates")
# What a third-party plugin build needs besides the SDK shipped here.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS
    "cmake, g++, libfmt-dev, libsimdjson-dev, libboost-dev, postgresql-15, kcat")
set(cvagent_deb_control
    ${cvagent_packaging_dir}/deb/postinst ${cvagent_packaging_dir}/deb/prerm
    ${cvagent_packaging_dir}/deb/postrm)
if(CVAGENT_INSTALL_SYSTEM_FILES)
  # dpkg keeps an operator's edits of these on upgrade and asks before replacing them.
  file(WRITE ${CMAKE_BINARY_DIR}/packaging/deb/conffiles
       "${CVAGENT_CONFIG_DIR}/pipeline.yaml\n${CVAGENT_CONFIG_DIR}/cvagent.env\n")
  list(APPEND cvagent_deb_control ${CMAKE_BINARY_DIR}/packaging/deb/conffiles)
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${cvagent_deb_control})
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# --- RPM ---
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_RELEASE 1)
set(CPACK_RPM_PACKAGE_GROUP "Applications/Internet")
set(CPACK_RPM_PACKAGE_LICENSE "Apache-2.0 and MIT")
set(CPACK_RPM_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
# rpmbuild derives the library requirements itself (AutoReq).
set(CPACK_RPM_PACKAGE_AUTOREQ ON)
set(CPACK_RPM_PACKAGE_REQUIRES_PRE "shadow-utils")
set(CPACK_RPM_PRE_INSTALL_SCRIPT_FILE ${cvagent_packaging_dir}/rpm/pre.sh)
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE ${cvagent_packaging_dir}/rpm/post.sh)
set(CPACK_RPM_PRE_UNINSTALL_SCRIPT_FILE ${cvagent_packaging_dir}/rpm/preun.sh)
set(CPACK_RPM_POST_UNINSTALL_SCRIPT_FILE ${cvagent_packaging_dir}/rpm/postun.sh)
# /etc files cannot move: the package is not relocatable.
set(CPACK_PACKAGE_RELOCATABLE OFF)
# Directories other packages own must not be claimed by this one.
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /etc /usr/lib/systemd /usr/lib/systemd/system /usr/share/doc /usr/include /usr/lib/cmake
    ${CMAKE_INSTALL_FULL_LIBDIR} ${CMAKE_INSTALL_FULL_LIBDIR}/cmake)
if(CVAGENT_INSTALL_SYSTEM_FILES)
  set(CPACK_RPM_USER_FILELIST
      "%config(noreplace) ${CVAGENT_CONFIG_DIR}/pipeline.yaml"
      "%config(noreplace) %attr(0600,root,root) ${CVAGENT_CONFIG_DIR}/cvagent.env")
endif()

include(CPack)
