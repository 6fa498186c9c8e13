#pragma once
// Data files embedded at build time (cmake/embed_files.cmake generates the definitions from
// data/), so the installed plugin needs no data path.

#include <string_view>

namespace cvagent::processors::sentiment::embedded {

std::string_view vader_lexicon_txt();
std::string_view vader_emoji_utf8_lexicon_txt();
std::string_view vader_boosters_tsv();
std::string_view vader_negations_txt();
std::string_view vader_special_cases_tsv();
std::string_view crypto_lexicon_tsv();
std::string_view headline_model_bin();

}  // namespace cvagent::processors::sentiment::embedded
