#include "cli/app.h"

int main(int argc, char** argv) { return cvagent::cli::run(argc, argv); }
