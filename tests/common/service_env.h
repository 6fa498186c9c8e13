#pragma once
// Test access to the services scripts/test.sh starts (tests/services/*.sh).

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace cvagent::testing {

inline bool servicesRequired() {
  const char* v = std::getenv("CVAGENT_TEST_REQUIRE_SERVICES");
  return v && std::string(v) == "1";
}

// The value of `var` (e.g. CVAGENT_TEST_PG_URL), or "" when the service is not running.
inline std::string serviceEnv(const char* var) {
  const char* v = std::getenv(var);
  return v ? std::string(v) : std::string();
}

}  // namespace cvagent::testing

// In a test body or SetUp(): skips when the service is absent, fails when services are required.
#define CVAGENT_REQUIRE_SERVICE(var, out)                                                  \
  do {                                                                                     \
    (out) = ::cvagent::testing::serviceEnv(var);                                           \
    if ((out).empty()) {                                                                   \
      if (::cvagent::testing::servicesRequired()) FAIL() << var " is not set";             \
      GTEST_SKIP() << var " is not set: run through scripts/test.sh to start the service"; \
    }                                                                                      \
  } while (0)
