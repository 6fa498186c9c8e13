// processors.scale: multiplies numeric fields by a factor (cents from dollars, sats from BTC).
// A complete third-party plugin: options declared once, one class, one export macro.

#include <cvagent/plugin.h>

#include <string>
#include <vector>

namespace {

struct ScaleOptions {
  std::vector<std::string> fields;
  double factor = 100.0;
  std::string suffix = "_scaled";

  static void describe(cvagent::Schema<ScaleOptions>& s) {
    s.option("fields", &ScaleOptions::fields, "Numeric fields to scale.").required();
    s.option("factor", &ScaleOptions::factor, "Multiplier.");
    s.option("suffix", &ScaleOptions::suffix,
             "Appended to the field name for the scaled copy; empty replaces the field.");
  }
};

class ScaleProcessor final : public cvagent::Processor {
 public:
  ScaleProcessor(const ScaleOptions& options, cvagent::PluginContext&) : options_(options) {}

  void process(cvagent::Metric&& metric, cvagent::Emitter& out) override {
    for (const auto& name : options_.fields) {
      double value = 0;
      if (metric.numberField(name, value))
        metric.setField(name + options_.suffix, value * options_.factor);
    }
    out.emit(std::move(metric));
  }

 private:
  ScaleOptions options_;
};

}  // namespace

CVAGENT_PLUGIN(cvagent::processorDescriptor<ScaleProcessor, ScaleOptions>(
    "scale", "Multiplies numeric fields by a factor.", cvagent::Stability::kExperimental))
