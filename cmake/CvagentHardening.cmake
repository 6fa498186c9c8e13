# Debian's hardening flags (what `DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags` gives on
# amd64), for every build that is not a sanitizer or fuzz build, so the release, RelWithDebInfo and
# package (CPack, packaging/Dockerfile) builds all ship hardened binaries:
# - -fstack-protector-strong: canaries in functions with arrays or address-taken locals;
# - -D_FORTIFY_SOURCE=2: checked memcpy/snprintf/read... (*_chk) where sizes are known; only with
#   optimisation (glibc warns, -Werror fails, at -O0), so only in the optimised build types;
# - -Wl,-z,relro,-z,now: full RELRO (GOT read-only after start-up, all symbols bound at load);
# - PIE for the executable (-fPIE/-pie), PIC for the plugins and libraries (they already are:
#   CMAKE_POSITION_INDEPENDENT_CODE);
# - -fstack-clash-protection, -fcf-protection: stack probing and CET (Debian 12 defaults on amd64).
# tests/unit/hardening_test.sh checks the result with readelf.
option(CVAGENT_HARDEN "Build with Debian's hardening flags (not with sanitizers or fuzzing)" ON)

if(CVAGENT_HARDEN AND NOT CVAGENT_SANITIZE AND NOT CVAGENT_TSAN AND NOT CVAGENT_BUILD_FUZZ)
  include(CheckPIESupported)
  check_pie_supported(LANGUAGES C CXX)
  add_compile_options(-fstack-protector-strong -fstack-clash-protection)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|i.86)$")
    add_compile_options(-fcf-protection)
  endif()
  # -U first: a CPPFLAGS from dpkg-buildflags (or a distribution compiler default) may already
  # define it with another level.
  add_compile_options("$<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:-U_FORTIFY_SOURCE;-D_FORTIFY_SOURCE=2>")
  add_link_options(-Wl,-z,relro,-z,now)
  set(CVAGENT_HARDENED ON)
else()
  set(CVAGENT_HARDENED OFF)
endif()
