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
  return std::string(SENTIMENT_TEST_DATA) + "/" + name;
}

}  // namespace cvagent::processors::sentiment::test
