#include "conninfo.h"

#include <gtest/gtest.h>

#include <cstdlib>

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
    // The option is not named: what libpq quotes may be a piece of a password (issue 16).
    EXPECT_NE(std::string(e.what()).find("invalid connection option \"...\""), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(redactConnInfo("postgresql://u:pw@h/db?bogus_option=1"), "<unparsable>");
}

// Issue 16: libpq's "missing "=" after "secret"" put the second half of the password in the log.
TEST(ConnInfo, AnUnquotedPasswordWithASpaceNeverReachesTheMessage) {
  try {
    parseConnInfo("host=db.example dbname=x password=hunter2 topsecret user=u", {});
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find("topsecret"), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
    EXPECT_NE(what.find("quote values with spaces"), std::string::npos) << what;
  }
  EXPECT_EQ(redactConnInfo("host=h password=a b"), "<unparsable>");
}

// Issue 16: a remote server's certificate was not verified unless the user asked (libpq's
// default sslmode is prefer); loopback and Unix sockets stay as they were (the test PostgreSQL).
TEST(ConnInfo, RemoteServersAreVerifiedByDefault) {
  ::unsetenv("PGSSLMODE");
  ::unsetenv("PGHOST");
  for (const char* remote : {"postgresql://u@db.example/x", "host=10.1.2.3 dbname=x",
                             "host=localhost,db.example dbname=x", "hostaddr=192.0.2.1"}) {
    const auto info = parseConnInfo(remote, {});
    EXPECT_NE(info.effective.find("sslmode='verify-full'"), std::string::npos) << remote;
    EXPECT_NE(info.redacted.find("sslmode='verify-full'"), std::string::npos) << remote;
    EXPECT_TRUE(info.tls_warning.empty()) << remote;
  }
  for (const char* local : {"host=localhost dbname=x", "postgresql://u@127.0.0.1:5432/x",
                            "host=/var/run/postgresql", "host=::1", ""}) {
    const auto info = parseConnInfo(local, {});
    EXPECT_EQ(info.effective.find("sslmode"), std::string::npos) << local;
    EXPECT_TRUE(info.tls_warning.empty()) << local;
  }
  const auto own = parseConnInfo("host=db.example sslmode=require sslrootcert=/ca.pem", {});
  EXPECT_NE(own.effective.find("sslmode='require'"), std::string::npos);
  EXPECT_EQ(own.effective.find("verify-full"), std::string::npos);
  EXPECT_EQ(own.tls_warning,
            "sslmode=require with a server that is not on this machine (db.example): the server's "
            "certificate is NOT verified; use sslmode=verify-full");
  ::setenv("PGSSLMODE", "disable", 1);
  EXPECT_NE(parseConnInfo("host=db.example", {}).tls_warning.find("sslmode=disable"),
            std::string::npos);
  ::unsetenv("PGSSLMODE");
}

TEST(ConnInfo, EmptyMeansLibpqDefaults) {
  const auto info = parseConnInfo("", {});
  EXPECT_EQ(info.redacted, "(libpq defaults)");
  EXPECT_NE(info.effective.find("connect_timeout"), std::string::npos);
}

}  // namespace
}  // namespace cvagent::outputs::timescale
