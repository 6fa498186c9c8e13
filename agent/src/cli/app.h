#pragma once

namespace cvagent::cli {

// The cvagent command line. Exit codes: 0 done, 2 bad usage or configuration, 1 runtime failure.
int run(int argc, char** argv);

}  // namespace cvagent::cli
