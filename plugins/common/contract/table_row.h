#pragma once
// The table row of a contract metric, derived from contract.h: one value per column of its kind,
// in column order, with the legacy conversions (side b/s, the 0..1 sentiment score, PRICE_UP /
// PRICE_DOWN, cleaned coin lists). The sink (e.g. outputs.timescale's COPY text or VALUES tuples)
// decides how values are rendered and escaped.

#include <cstdint>
#include <string>
#include <string_view>

#include "contract/contract.h"
#include "cvagent/metric.h"

namespace cvagent::contract {

// Receives one row's values, one call per column.
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual void time(std::int64_t ns) = 0;
  virtual void text(std::string_view value) = 0;  // valid UTF-8 without NUL bytes
  virtual void number(double value) = 0;
  virtual void integer(std::int64_t value) = 0;
  virtual void boolean(bool value) = 0;
  virtual void null(ColumnType type) = 0;
};

// Writes every column of `metric`'s row (kind = its kind) into `row`. On bad input (a required
// value missing or of the wrong type, text PostgreSQL cannot store) returns false with the first
// problem in `error`, naming the tag or field; every column is still written (NULL where bad), so
// the caller drops a whole row.
bool fillRow(const Kind& kind, const Metric& metric, RowSink& row, std::string& error);

// True when `text` is valid UTF-8 without NUL bytes (what PostgreSQL text accepts).
bool isStorableText(std::string_view text);

}  // namespace cvagent::contract
