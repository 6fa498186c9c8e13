#pragma once
// The flavour under test. Every test of this plugin runs twice: against plain PostgreSQL
// (tests/services/postgres.sh) and, registered again with CVAGENT_TEST_PG_FLAVOR=timescaledb,
// against the server of tests/services/timescaledb.sh, which preloads TimescaleDB.

#include <string>

#include "service_env.h"

namespace cvagent::outputs::timescale::testing {

inline bool timescaleFlavour() {
  return ::cvagent::testing::serviceEnv("CVAGENT_TEST_PG_FLAVOR") == "timescaledb";
}
inline std::string expectedFlavourName() {
  return timescaleFlavour() ? "timescaledb" : "postgresql";
}
// Server settings a private server of the flavour under test needs.
inline std::string flavourServerSettings() {
  return timescaleFlavour() ? "-c shared_preload_libraries=timescaledb "
                              "-c max_worker_processes=32 -c timescaledb.telemetry_level=off"
                            : "";
}

}  // namespace cvagent::outputs::timescale::testing

// In a test body or SetUp(): the shared server of the flavour under test into `out`; skips (or
// fails, when services are required) without it. The TimescaleDB flavour is skipped, with the
// reason, where the suite could not build TimescaleDB (no ../shared/vendor/timescaledb).
#define CVAGENT_REQUIRE_PG_SERVER(out)                                                   \
  do {                                                                                   \
    if (::cvagent::outputs::timescale::testing::timescaleFlavour()) {                    \
      const std::string skip = ::cvagent::testing::serviceEnv("CVAGENT_TEST_TSDB_SKIP"); \
      if (!skip.empty()) GTEST_SKIP() << "TimescaleDB flavour skipped: " << skip;        \
      CVAGENT_REQUIRE_SERVICE("CVAGENT_TEST_TSDB_URL", out);                             \
    } else {                                                                             \
      CVAGENT_REQUIRE_SERVICE("CVAGENT_TEST_PG_URL", out);                               \
    }                                                                                    \
  } while (0)
