#include "conninfo.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace cvagent::outputs::timescale {
namespace {

TEST(ConnInfo, UriPasswordIsRedactedAndOptionsPassThrough) {
  const auto info = parseConnInfo(
      "postgresql://agent:s3cr%27et@db.example:6543/crypto?sslmode=verify-full&sslrootcert=/ca.pem",
      {});
  EXPECT_EQ(info.redacted.find("s3cr"), std::string::npos) << info.redacted;
  EXPECT_NE(info.redacted.find("password='********'"), std::string::npos) << info.redacted;
  EXPECT_NE(info.redacted.find("host='db.example'"), std::string::npos);
  EXPECT_NE(info.redacted.find("port='6543'"), std::string::npos);
  EXPECT_NE(info.redacted.find("sslmode='verify-full'"), std::string::npos);
  // The effective string keeps the password, quoted the libpq way.
  EXPECT_NE(info.effective.find("password='s3cr\\'et'"), std::string::npos) << info.effective;
  EXPECT_NE(info.effective.find("sslrootcert='/ca.pem'"), std::string::npos);
}

TEST(ConnInfo, KeywordValuePasswordIsRedacted) {
  const auto info = parseConnInfo("host=localhost dbname=x password=hunter2 user=u", {});
  EXPECT_EQ(info.redacted.find("hunter2"), std::string::npos) << info.redacted;
  EXPECT_NE(info.effective.find("hunter2"), std::string::npos);
}

TEST(ConnInfo, DefaultsAddedOnlyWhenAbsent) {
  ConnDefaults defaults;
  defaults.connect_timeout = std::chrono::seconds(7);
  const auto plain = parseConnInfo("host=h", defaults);
  EXPECT_NE(plain.effective.find("connect_timeout='7'"), std::string::npos) << plain.effective;
  EXPECT_NE(plain.effective.find("application_name='cvagent'"), std::string::npos);
  const auto own = parseConnInfo("host=h connect_timeout=3 application_name=mine", defaults);
  EXPECT_NE(own.effective.find("connect_timeout='3'"), std::string::npos);
  EXPECT_EQ(own.effective.find("connect_timeout='7'"), std::string::npos);
  EXPECT_EQ(own.effective.find("'cvagent'"), std::string::npos);
}

TEST(ConnInfo, UnparsableStringThrowsWithoutEchoingIt) {
  try {
    parseConnInfo("host=h password=topsecret bogus_option=1", {});
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("topsecret"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bogus_option"), std::string::npos) << e.what();
  }
  EXPECT_EQ(redactConnInfo("postgresql://u:pw@h/db?bogus_option=1"), "<unparsable>");
}

TEST(ConnInfo, EmptyMeansLibpqDefaults) {
  const auto info = parseConnInfo("", {});
  EXPECT_EQ(info.redacted, "(libpq defaults)");
  EXPECT_NE(info.effective.find("connect_timeout"), std::string::npos);
}

}  // namespace
}  // namespace cvagent::outputs::timescale
