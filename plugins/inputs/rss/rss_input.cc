#include "rss_input.h"

#include <algorithm>
#include <filesystem>
#include <unordered_set>

#include "html_text.h"

namespace cvagent::inputs::rss {
namespace {

bool isHttpUrl(std::string_view url) {
  return url.substr(0, 7) == "http://" || url.substr(0, 8) == "https://";
}

std::chrono::milliseconds toMs(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

// "text/html; charset=windows-1251" -> "windows-1251"
std::string charsetOf(std::string_view content_type) {
  const std::size_t pos = content_type.find("charset=");
  if (pos == std::string_view::npos) return {};
  std::string_view v = content_type.substr(pos + 8);
  const std::size_t end = v.find_first_of("; ");
  v = v.substr(0, end);
  if (!v.empty() && (v.front() == '"' || v.front() == '\'')) v.remove_prefix(1);
  if (!v.empty() && (v.back() == '"' || v.back() == '\'')) v.remove_suffix(1);
  return std::string(v);
}

}  // namespace

void RssOptions::describe(Schema<RssOptions>& s) {
  s.option("feeds", &RssOptions::feeds, "RSS 2.0, RSS 1.0/RDF or Atom feed URLs (http or https).");
  s.option("source_names", &RssOptions::source_names,
           "Feed URL -> value of the `source` tag; by default the feed's own title.");
  s.option("feed_interval", &RssOptions::feed_interval,
           "How often each feed is fetched. Each gather (every core `interval`) fetches only the "
           "feeds that are due.")
      .min(1);
  s.option("jitter", &RssOptions::jitter,
           "Random delay, up to this much, added to each feed's next fetch so feeds spread out.")
      .min(0);
  s.option("timeout", &RssOptions::timeout, "Limit for one whole HTTP request.").min(0.1);
  s.option("connect_timeout", &RssOptions::connect_timeout, "Limit for connecting.").min(0.1);
  s.option("max_feed_size", &RssOptions::max_feed_size,
           "A feed response larger than this is an error for that feed.")
      .min(1024);
  s.option("max_redirects", &RssOptions::max_redirects, "Redirects followed per request.")
      .min(0)
      .max(20);
  s.option("max_concurrency", &RssOptions::max_concurrency, "Feeds fetched at the same time.")
      .min(1)
      .max(64);
  s.option("user_agent", &RssOptions::user_agent, "User-Agent header sent with every request.");
  s.option("insecure_skip_verify", &RssOptions::insecure_skip_verify,
           "Do not verify TLS certificates (testing only).");
  s.option("ca_file", &RssOptions::ca_file,
           "CA bundle (PEM) to verify servers with instead of the system's.");
  s.option("state_file", &RssOptions::state_file,
           "Where the seen item ids and HTTP validators are kept across restarts; by default "
           "`rss-state.txt` in the instance's state directory.");
  s.option("max_seen_per_feed", &RssOptions::max_seen_per_feed,
           "Item ids remembered per feed (the most recently seen; at least twice the items the "
           "feed currently lists are always kept).")
      .min(10);
  s.option("fetch_article", &RssOptions::fetch_article,
           "Download each new item's page and extract its main text into the `text` field.");
  s.option("article_concurrency", &RssOptions::article_concurrency,
           "Article pages fetched at the same time (one at a time per host while "
           "`article_host_delay` is above zero).")
      .min(1)
      .max(64);
  s.option("article_host_delay", &RssOptions::article_host_delay,
           "Pause between two article requests to the same host.")
      .min(0);
  s.option("max_article_size", &RssOptions::max_article_size,
           "Article pages larger than this are not read (the article is emitted without text).")
      .min(1024);
  s.check([](const RssOptions& o, const SourceMark& where, Diagnostics& d) {
    if (o.feeds.empty()) d.push_back({where, "feeds: at least one feed URL is needed"});
    for (const auto& url : o.feeds) {
      if (!isHttpUrl(url)) {
        d.push_back({where, "feeds: '" + url + "' is not an http:// or https:// URL"});
      }
    }
  });
}

RssInput::RssInput(const RssOptions& options, PluginContext& context)
    : options_(options),
      ctx_(context),
      feed_client_(HttpSettings{toMs(options.timeout), toMs(options.connect_timeout),
                                static_cast<long>(options.max_redirects), options.user_agent,
                                !options.insecure_skip_verify, options.ca_file,
                                static_cast<std::size_t>(options.max_concurrency),
                                std::chrono::milliseconds(0), nullptr}),
      article_client_(HttpSettings{toMs(options.timeout), toMs(options.connect_timeout),
                                   static_cast<long>(options.max_redirects), options.user_agent,
                                   !options.insecure_skip_verify, options.ca_file,
                                   static_cast<std::size_t>(options.article_concurrency),
                                   toMs(options.article_host_delay), nullptr}),
      rng_(std::random_device{}()),
      fetches_(context.counter("feed_fetches_total", "Feed requests made.")),
      feed_errors_(context.counter("feed_errors_total",
                                   "Feed fetches that failed: network, HTTP status, size, "
                                   "encoding or XML errors.")),
      not_modified_(
          context.counter("feeds_not_modified_total", "Feed fetches answered 304 Not Modified.")),
      articles_(context.counter("articles_total", "New items emitted as article metrics.")),
      undated_(context.counter("articles_undated_total",
                               "Items whose publish date was missing or unreadable; their time "
                               "is the receive time.")),
      article_errors_(context.counter("article_fetch_errors_total",
                                      "Article pages that could not be fetched or had no text.")),
      state_errors_(
          context.counter("state_errors_total", "Failures to read or write the state file.")) {
  state_path_ =
      options.state_file.empty() ? ctx_.stateDir() + "/rss-state.txt" : options.state_file;
  std::string error;
  if (!StateFile::load(state_path_, state_, error)) {
    // Start afresh (items will be emitted again) but keep the bad file for inspection.
    state_errors_.inc();
    state_.clear();
    std::error_code ec;
    std::filesystem::rename(state_path_, state_path_ + ".corrupt", ec);
    ctx_.logger().error("state file unreadable, starting with no seen items: {}", error);
  }
  for (const auto& url : options.feeds) feeds_.push_back(FeedRuntime{url, 0, {}});
  // Feeds no longer configured are forgotten, so the file stays bounded.
  std::erase_if(state_, [&](const auto& entry) {
    return std::find(options.feeds.begin(), options.feeds.end(), entry.first) ==
           options.feeds.end();
  });
}

void RssInput::stop() {
  feed_client_.abort();
  article_client_.abort();
}

std::int64_t RssInput::jitterNs() {
  if (options_.jitter.count() <= 0) return 0;
  std::uniform_int_distribution<std::int64_t> dist(0, options_.jitter.count());
  return dist(rng_);
}

void RssInput::feedFailed(FeedRuntime& feed, const std::string& what) {
  feed_errors_.inc();
  feed.last_error = what;
  ctx_.logger().error("feed {}: {}", feed.url, what);
}

void RssInput::updateHealth() {
  std::size_t failing = 0;
  const FeedRuntime* last = nullptr;
  for (const auto& f : feeds_) {
    if (!f.last_error.empty()) {
      ++failing;
      last = &f;
    }
  }
  if (failing == 0) {
    ctx_.setHealth(HealthState::kOk);
  } else {
    ctx_.setHealth(HealthState::kDegraded, fmt::format("{} of {} feeds failing; {}: {}", failing,
                                                       feeds_.size(), last->url, last->last_error));
  }
}

void RssInput::fetchArticles(std::vector<NewItem>& items, std::vector<std::string>& texts) {
  texts.assign(items.size(), {});
  std::vector<HttpRequest> requests;
  std::vector<std::size_t> which;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string& link = items[i].item.link;
    if (!isHttpUrl(link)) {
      if (!link.empty()) {
        article_errors_.inc();
        ctx_.logger().warn("article {}: not fetched: only http and https links are", link);
      }
      continue;
    }
    requests.push_back(HttpRequest{link, {}, {}, options_.max_article_size.bytes});
    which.push_back(i);
  }
  const auto responses = article_client_.fetchAll(requests);
  for (std::size_t k = 0; k < responses.size(); ++k) {
    const HttpResponse& r = responses[k];
    const std::string& link = requests[k].url;
    if (!r.ok()) {
      article_errors_.inc();
      ctx_.logger().warn("article {}: {}", link,
                         r.error.empty() ? "HTTP " + std::to_string(r.status) : r.error);
      continue;
    }
    texts[which[k]] = extractArticleText(r.body, charsetOf(r.content_type));
    if (texts[which[k]].empty()) {
      article_errors_.inc();
      ctx_.logger().warn("article {}: no main text found in the page", link);
    }
  }
}

void RssInput::saveState() {
  std::string error;
  if (!StateFile::save(state_path_, state_, error)) {
    state_errors_.inc();
    ctx_.logger().error("state file: {}", error);
  }
}

void RssInput::gather(Emitter& out) {
  if (feed_client_.aborted()) return;
  const std::int64_t now = ctx_.clock().nowNanos();
  std::vector<std::size_t> due;
  std::vector<HttpRequest> requests;
  for (std::size_t i = 0; i < feeds_.size(); ++i) {
    if (feeds_[i].next_due_ns > now) continue;
    const FeedState& st = state_[feeds_[i].url];
    due.push_back(i);
    requests.push_back(
        HttpRequest{feeds_[i].url, st.etag, st.last_modified, options_.max_feed_size.bytes});
  }
  if (due.empty()) return;
  const auto responses = feed_client_.fetchAll(requests);
  if (feed_client_.aborted()) return;

  std::vector<NewItem> fresh;
  std::map<std::size_t, std::size_t> bounds;  // feed -> seen-key bound for this poll
  bool changed = false;
  for (std::size_t k = 0; k < due.size(); ++k) {
    FeedRuntime& feed = feeds_[due[k]];
    feed.next_due_ns = now + options_.feed_interval.count() + jitterNs();
    fetches_.inc();
    const HttpResponse& r = responses[k];
    if (!r.error.empty()) {
      feedFailed(feed, "fetch failed: " + r.error);
      continue;
    }
    if (r.status == 304) {
      not_modified_.inc();
      feed.last_error.clear();
      continue;
    }
    if (r.status < 200 || r.status >= 300) {
      feedFailed(feed, "HTTP status " + std::to_string(r.status));
      continue;
    }
    ParsedFeed parsed;
    std::string error;
    if (!parseFeed(r.body, r.effective_url.empty() ? feed.url : r.effective_url, parsed, error)) {
      feedFailed(feed, error);
      continue;
    }
    for (const auto& note : parsed.notes) ctx_.logger().warn("feed {}: {}", feed.url, note);
    feed.last_error.clear();
    FeedState& st = state_[feed.url];
    changed = changed || st.etag != r.etag || st.last_modified != r.last_modified;
    st.etag = r.etag;
    st.last_modified = r.last_modified;
    auto name = options_.source_names.find(feed.url);
    std::string source = name != options_.source_names.end() ? name->second : parsed.title;
    if (source.empty()) source = HttpClient::hostOf(feed.url);
    const std::size_t bound = std::max<std::size_t>(
        static_cast<std::size_t>(options_.max_seen_per_feed), 2 * parsed.items.size());
    bounds[due[k]] = bound;
    std::unordered_set<std::string> this_poll;
    for (auto& item : parsed.items) {
      if (st.seen.contains(item.id)) {
        st.seen.touch(item.id, bound);  // still listed: keep it among the most recent
        continue;
      }
      if (!this_poll.insert(item.id).second) continue;  // duplicate within the document
      fresh.push_back(NewItem{due[k], std::move(item), source});
    }
  }

  std::vector<std::string> texts;
  if (options_.fetch_article && !fresh.empty()) {
    fetchArticles(fresh, texts);
    if (article_client_.aborted()) return;  // stopping: emit nothing half-done
  }
  const std::int64_t received = ctx_.clock().nowNanos();
  // Oldest first, so downstream windows see event time move forward.
  std::vector<std::size_t> order(fresh.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return fresh[a].item.time_ns.value_or(received) < fresh[b].item.time_ns.value_or(received);
  });
  for (std::size_t i : order) {
    NewItem& n = fresh[i];
    std::int64_t time = received;
    if (n.item.time_ns) {
      time = *n.item.time_ns;
    } else {
      undated_.inc();
      ctx_.logger().debug(
          "feed {}: item {}: publish date '{}' missing or unreadable; using "
          "the receive time",
          feeds_[n.feed].url, n.item.id, n.item.date_text);
    }
    Metric m("article", time);
    m.setTag("source", n.source);
    m.reserveFields(7);
    m.setField("id", n.item.id);
    m.setField("title", std::move(n.item.title));
    m.setField("url", n.item.link);
    m.setField("summary", std::move(n.item.summary));
    if (options_.fetch_article && !texts[i].empty()) m.setField("text", std::move(texts[i]));
    m.setField("receive_time", received);
    out.emit(std::move(m));
    // Marked seen only once handed on: a crash in between re-emits (at-least-once).
    state_[feeds_[n.feed].url].seen.touch(n.item.id, bounds[n.feed]);
    articles_.inc();
    changed = true;
  }
  if (changed) saveState();
  updateHealth();
}

}  // namespace cvagent::inputs::rss
