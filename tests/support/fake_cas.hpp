#pragma once

#include "sconectl/cas/api.hpp"
#include "sconectl/cas/transport.hpp"
#include "sconectl/model/session.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace sconectl::testing {

// Answers from a script, one per request, and records the requests.
class ScriptedTransport final : public cas::HttpTransport {
 public:
  std::deque<Result<cas::HttpResponse>> answers;
  std::vector<cas::HttpRequest> requests;

  Result<cas::HttpResponse> send(const cas::HttpRequest& request) override
  {
    requests.push_back(request);
    if (answers.empty()) {
      return cas::HttpResponse{599, "script exhausted"};
    }
    auto answer = std::move(answers.front());
    answers.pop_front();
    return answer;
  }
};

// A transport that forwards to one the test owns, for code that takes ownership of its transport
// (cas::TransportFactory) while the test keeps inspecting the CAS behind it.
class BorrowedTransport final : public cas::HttpTransport {
 public:
  explicit BorrowedTransport(cas::HttpTransport& inner) : m_inner(inner) {}
  Result<cas::HttpResponse> send(const cas::HttpRequest& request) override
  {
    return m_inner.send(request);
  }

 private:
  cas::HttpTransport& m_inner;
};

// The session endpoints of a CAS, in memory: create, update on the current predecessor, read
// current and old versions. Hashes follow docs/cas.md, so a client's checks can pass or fail.
class InMemoryCas final : public cas::HttpTransport {
 public:
  std::string requester = "test-client-key";
  std::map<std::string, std::vector<cas::SessionRecord>> versions;  // oldest first
  int posts = 0;
  // Runs before a POST is handled (e.g. another client's update sneaking in).
  std::function<void()> before_post;
  // Apply the next POST, then fail as if the connection broke before the answer arrived.
  bool lose_next_answer = false;
  // Report a wrong hash for uploads (a CAS that stores something else).
  bool misreport_hash = false;
  // Answer POST /v1/session-versions, as the local CAS does; false: 404, as SCONE's CAS.
  bool offers_current_versions = true;
  int gets = 0;
  int batch_reads = 0;
  std::vector<std::string> posted;  // names, in the order their uploads were stored
  // Sessions whose upload is refused (400). Each such request waits (up to 2 s) until all of them
  // have arrived, so a test sees them in flight together.
  std::set<std::string> refuse;
  // What the CAS says about each refused session, after "session 'NAME' is not valid".
  std::vector<std::string> refusal{"refused by the test"};
  std::size_t most_in_flight = 0;           // the most requests seen at once (see slow_posts)
  std::chrono::milliseconds slow_posts{0};  // each POST takes this long, outside the lock

  // One request at a time, as several connections of a concurrent upload send them.
  Result<cas::HttpResponse> send(const cas::HttpRequest& request) override
  {
    if (request.method == "POST" && !refuse.empty()) {
      const auto document = model::parse_session_yaml(request.body);
      if (document && refuse.contains(document->value("name", std::string()))) {
        std::unique_lock lock(m_mutex);
        ++m_refused_arrived;
        m_arrivals.notify_all();
        m_arrivals.wait_for(
            lock, std::chrono::seconds(2), [this] { return m_refused_arrived >= refuse.size(); });
      }
    }
    if (request.method == "POST" && slow_posts.count() > 0) {
      {
        std::lock_guard lock(m_mutex);
        most_in_flight = std::max(most_in_flight, ++m_in_flight);
      }
      std::this_thread::sleep_for(slow_posts);
      std::lock_guard lock(m_mutex);
      --m_in_flight;
    }
    std::lock_guard lock(m_mutex);
    if (request.method == "GET") {
      ++gets;
      return get(request.target);
    }
    if (request.target == cas::k_current_versions_path) {
      return current_versions(request.body);
    }
    ++posts;
    if (before_post) {
      auto hook = std::move(before_post);
      before_post = nullptr;
      hook();
    }
    auto response = post(request.body, requester);
    if (lose_next_answer) {
      lose_next_answer = false;
      return fail(ErrorKind::network, "connection reset by peer");
    }
    return response;
  }

  // Stores a session as if `who` had uploaded it.
  cas::HttpResponse post(const std::string& yaml, const std::string& who)
  {
    auto document = model::parse_session_yaml(yaml);
    if (!document) {
      return {400, cas::error_body({document.error().message})};
    }
    const auto name = document->value("name", std::string());
    if (refuse.contains(name)) {
      std::vector<std::string> messages{"session '" + name + "' is not valid"};
      messages.insert(messages.end(), refusal.begin(), refusal.end());
      return {400, cas::error_body(messages)};
    }
    auto& history = versions[name];
    const bool update = document->contains("predecessor");
    if (!update && !history.empty()) {
      return {409, cas::error_body({"session exists"}, history.back().hash)};
    }
    if (update && (history.empty() || history.back().hash != document->at("predecessor"))) {
      return {409,
              cas::error_body({"predecessor mismatch"},
                              history.empty() ? std::string() : history.back().hash)};
    }
    (*document)["creator"] = update ? history.front().creator : who;
    cas::SessionRecord record{.name = name,
                              .hash = model::session_hash(*document),
                              .creator = document->at("creator"),
                              .session = model::to_yaml(*document)};
    if (update) {
      record.predecessor = document->at("predecessor").get<std::string>();
    }
    history.push_back(record);
    posted.push_back(name);
    cas::UploadReceipt receipt{
        name, misreport_hash ? std::string(64, 'f') : record.hash, record.predecessor};
    return {update ? 200 : 201, cas::to_json(receipt).dump()};
  }

 private:
  std::recursive_mutex m_mutex;  // a before_post hook may store a session itself
  std::condition_variable_any m_arrivals;
  std::size_t m_in_flight = 0;
  std::size_t m_refused_arrived = 0;

  cas::HttpResponse current_versions(const std::string& body)
  {
    if (!offers_current_versions) {
      return {404, cas::error_body({"no such endpoint"})};
    }
    ++batch_reads;
    cas::CurrentVersions answer;
    const auto request = nlohmann::json::parse(body);
    for (const auto& item : request.at("names")) {
      const auto name = item.get<std::string>();
      const auto found = versions.find(name);
      if (found == versions.end() || found->second.empty()) {
        answer[name] = std::nullopt;
      } else {
        const auto& current = found->second.back();
        answer[name] = cas::CurrentVersion{current.hash, current.predecessor, current.creator};
      }
    }
    return {200, cas::to_json(answer).dump()};
  }

  cas::HttpResponse get(const std::string& target)
  {
    const std::string prefix = std::string(cas::k_sessions_path) + "/";
    auto rest = target.substr(prefix.size());
    std::string hash;
    if (const auto query = rest.find("?hash="); query != std::string::npos) {
      hash = rest.substr(query + 6);
      rest = rest.substr(0, query);
    }
    const auto found = versions.find(rest);
    if (found == versions.end() || found->second.empty()) {
      return {404, cas::error_body({"no such session"})};
    }
    for (const auto& record : found->second) {
      if (hash.empty() ? &record == &found->second.back() : record.hash == hash) {
        return {200, cas::to_json(record).dump()};
      }
    }
    return {404, cas::error_body({"no such version"})};
  }
};

}  // namespace sconectl::testing
