// outputs.discard: accepts every batch and stores nothing. For benchmarks, and for pipelines
// whose processors only feed the agent's own metrics.

#include "cvagent/plugin.h"

namespace cvagent::outputs::discard {
namespace {

class DiscardOutput final : public Output {
 public:
  DiscardOutput(const NoOptions&, PluginContext&) {}
  WriteResult write(std::span<const Metric>) override { return WriteResult::ok(); }
};

}  // namespace
}  // namespace cvagent::outputs::discard

CVAGENT_PLUGIN(
    cvagent::outputDescriptor<cvagent::outputs::discard::DiscardOutput, cvagent::NoOptions>(
        "discard", "Accepts every metric and stores nothing (benchmarks, dry runs)."))
