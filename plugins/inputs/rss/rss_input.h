#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cvagent/input.h"
#include "cvagent/options.h"
#include "cvagent/plugin_context.h"
#include "feed_parser.h"
#include "feed_state.h"
#include "http/http_client.h"

namespace cvagent::inputs::rss {

using common::http::HttpClient;
using common::http::HttpRequest;
using common::http::HttpResponse;
using common::http::HttpSettings;

struct RssOptions {
  // The existing stack's five feeds (seed-system.md section 5).
  std::vector<std::string> feeds{"https://www.coindesk.com/arc/outboundfeeds/rss/",
                                 "https://cointelegraph.com/rss", "https://decrypt.co/feed",
                                 "https://cryptoslate.com/feed/",
                                 "https://bitcoinmagazine.com/.rss/full/"};
  std::map<std::string, std::string> source_names;
  std::chrono::nanoseconds feed_interval = std::chrono::minutes(5);
  std::chrono::nanoseconds jitter = std::chrono::seconds(30);
  std::chrono::nanoseconds timeout = std::chrono::seconds(15);
  std::chrono::nanoseconds connect_timeout = std::chrono::seconds(5);
  ByteSize max_feed_size{10u << 20};
  std::int64_t max_redirects = 5;
  std::int64_t max_concurrency = 4;
  std::string user_agent = "cvagent-rss/1.0";
  bool insecure_skip_verify = false;
  std::string ca_file;
  std::string state_file;
  std::int64_t max_seen_per_feed = 2000;
  bool fetch_article = false;
  std::int64_t article_concurrency = 4;
  std::chrono::nanoseconds article_host_delay = std::chrono::seconds(1);
  ByteSize max_article_size{2u << 20};

  static void describe(Schema<RssOptions>& s);
};

class RssInput final : public Input {
 public:
  RssInput(const RssOptions& options, PluginContext& context);

  void gather(Emitter& out) override;
  void stop() override;

 private:
  struct FeedRuntime {
    std::string url;
    std::int64_t next_due_ns = 0;
    std::string last_error;
  };
  struct NewItem {
    std::size_t feed;
    FeedItem item;
    std::string source;
  };

  std::int64_t jitterNs();
  void feedFailed(FeedRuntime& feed, const std::string& what);
  void fetchArticles(std::vector<NewItem>& items, std::vector<std::string>& texts);
  void saveState();
  void updateHealth();

  RssOptions options_;
  PluginContext& ctx_;
  std::string state_path_;
  std::vector<FeedRuntime> feeds_;
  std::map<std::string, FeedState> state_;
  HttpClient feed_client_;
  HttpClient article_client_;
  std::mt19937_64 rng_;
  Counter& fetches_;
  Counter& feed_errors_;
  Counter& not_modified_;
  Counter& articles_;
  Counter& undated_;
  Counter& article_errors_;
  Counter& state_errors_;
};

}  // namespace cvagent::inputs::rss
