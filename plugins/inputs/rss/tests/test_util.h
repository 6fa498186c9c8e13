#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace cvagent::inputs::rss::test {

inline std::string dataPath(const std::string& rel) {
  return std::string(CVAGENT_SHARED_TEST_DATA) + "/" + rel;
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string feedFile(const std::string& rel) { return readFile(dataPath("feeds/" + rel)); }

}  // namespace cvagent::inputs::rss::test
