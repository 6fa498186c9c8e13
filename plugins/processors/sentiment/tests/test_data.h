#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace cvagent::processors::sentiment::test {

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string dataPath(const std::string& name) {
  return std::string(CVAGENT_TEST_DATA) + "/" + name;
}

// The authored crypto feeds and article texts, shared with inputs.rss (tests/data/feeds/crypto).
inline std::string cryptoFeedPath(const std::string& name) {
  return std::string(CVAGENT_SHARED_TEST_DATA) + "/feeds/crypto/" + name;
}

}  // namespace cvagent::processors::sentiment::test
