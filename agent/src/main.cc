// Placeholder until the runtime lands.
#include <cstdio>

#include "cvagent/version.h"

int main() {
  std::printf("cvagent %s\n", CVAGENT_VERSION);
  return 0;
}
