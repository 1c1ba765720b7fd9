#include "sconectl/cas/upload.hpp"

#include "sconectl/util/fs.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

namespace sconectl::cas {

namespace {

namespace stdfs = std::filesystem;
using model::SessionDocument;

constexpr std::size_t k_recorded_chain_length = 100;

std::size_t depth(const std::string& name)
{
  return static_cast<std::size_t>(std::count(name.begin(), name.end(), '/'));
}

nlohmann::json content_of(SessionDocument document)
{
  document.erase("creator");
  document.erase("predecessor");
  return nlohmann::json(document);
}

Result<bool> same_content(const SessionRecord& remote, const SessionDocument& local)
{
  auto parsed = model::parse_session_yaml(remote.session);
  if (!parsed) {
    return fail(ErrorKind::server,
                "the CAS returned session '" + remote.name
                    + "' in a form that does not parse: " + parsed.error().message);
  }
  return content_of(*parsed) == content_of(local);
}

void remember(UploadRecord& record, const std::string& name, const std::string& hash)
{
  auto& chain = record.chains[name];
  if (!chain.empty() && chain.front() == hash) {
    return;
  }
  chain.insert(chain.begin(), hash);
  if (chain.size() > k_recorded_chain_length) {
    chain.resize(k_recorded_chain_length);
  }
}

class SessionUploader {
 public:
  // `shared` guards `record` and `report`, which uploaders on other threads use too.
  SessionUploader(CasClient& client,
                  const std::string& own_key_hash,
                  UploadRecord& record,
                  UploadReport& report,
                  std::mutex& shared)
      : m_client(client),
        m_own_key_hash(own_key_hash),
        m_record(record),
        m_report(report),
        m_shared(shared)
  {
  }

  // `known`: the session's current version from a batch read, when the CAS offers one (then no
  // GET is needed); nullptr to read it here.
  Result<UploadedSession> upload(const model::Session& session,
                                 const std::optional<CurrentVersion>* known)
  {
    // The CAS hashes what it parses from the YAML sent; to_yaml and parse_session_yaml round-trip
    // every session document exactly (tests/unit/model), so the document itself is what it sees.
    SessionDocument local = session.document;
    local.erase("predecessor");
    if (known != nullptr) {
      if (!*known) {
        return send(session.name, local, std::nullopt, m_own_key_hash);
      }
      const auto& version = **known;
      warn_if_changed_elsewhere(session.name, version.hash);
      // The hash covers the whole document: equal hashes, equal content.
      SessionDocument stored = local;
      if (version.predecessor) {
        stored["predecessor"] = *version.predecessor;
      }
      if (expected_hash(stored, version.creator) == version.hash) {
        return UploadedSession{
            session.name, UploadAction::unchanged, version.hash, version.predecessor};
      }
      return send(session.name, local, version.hash, version.creator);
    }
    auto current = m_client.get_session(session.name);
    if (!current) {
      return forward_error(std::move(current.error()));
    }
    if (!*current) {
      return send(session.name, local, std::nullopt, m_own_key_hash);
    }
    const auto& remote = **current;
    warn_if_changed_elsewhere(remote.name, remote.hash);
    auto unchanged = same_content(remote, local);
    if (!unchanged) {
      return forward_error(std::move(unchanged.error()));
    }
    if (*unchanged) {
      return UploadedSession{
          session.name, UploadAction::unchanged, remote.hash, remote.predecessor};
    }
    return send(session.name, local, remote.hash, remote.creator);
  }

 private:
  Result<UploadedSession> send(const std::string& name,
                               SessionDocument document,
                               const std::optional<std::string>& predecessor,
                               const std::string& creator)
  {
    if (predecessor) {
      document["predecessor"] = *predecessor;
    }
    const auto expected = expected_hash(document, creator);
    auto posted = m_client.post_session(name, model::to_yaml(document));
    if (!posted) {
      if (posted.error().kind == ErrorKind::conflict) {
        return resolve_conflict(name, document, predecessor, posted.error());
      }
      return forward_error(std::move(posted.error()));
    }
    if (posted->receipt.hash != expected) {
      return fail(ErrorKind::server,
                  "the CAS recorded session '" + name + "' as " + posted->receipt.hash
                      + ", but what was sent hashes to " + expected
                      + " (docs/cas.md, Session hash): the CAS stored something else");
    }
    return UploadedSession{name,
                           predecessor ? UploadAction::updated : UploadAction::created,
                           posted->receipt.hash,
                           predecessor};
  }

  // A 409 after a retried POST may be our own earlier attempt, applied before the connection
  // broke. Only then is it a success: the CAS now holds exactly what we sent, on the predecessor
  // we sent it on. Anything else is someone else's change and is reported, never overwritten.
  Result<UploadedSession> resolve_conflict(const std::string& name,
                                           const SessionDocument& sent,
                                           const std::optional<std::string>& predecessor,
                                           Error conflict)
  {
    auto current = m_client.get_session(name);
    if (current && *current && (*current)->predecessor == predecessor) {
      auto same = same_content(**current, sent);
      if (same && *same) {
        return UploadedSession{name,
                               predecessor ? UploadAction::updated : UploadAction::created,
                               (*current)->hash,
                               predecessor};
      }
    }
    const auto now = current && *current ? (*current)->hash : std::string("(none)");
    conflict.message = "session '" + name
                       + "' was changed on the CAS while this apply ran: " + "it was read as "
                       + predecessor.value_or("(absent)") + ", the CAS now has " + now
                       + "; nothing was overwritten. Re-run apply to update from the new version";
    return tl::unexpected(std::move(conflict));
  }

  void warn_if_changed_elsewhere(const std::string& name, const std::string& current_hash)
  {
    std::lock_guard lock(m_shared);
    const auto found = m_record.chains.find(name);
    if (found == m_record.chains.end() || found->second.empty()) {
      return;
    }
    const auto& last = found->second.front();
    if (last != current_hash) {
      m_report.warnings.push_back("session '" + name
                                  + "' was changed on the CAS since the last apply from this "
                                    "target directory: recorded "
                                  + last + ", the CAS has " + current_hash
                                  + "; this apply replaces that version");
    }
  }

  CasClient& m_client;
  const std::string& m_own_key_hash;
  UploadRecord& m_record;
  UploadReport& m_report;
  std::mutex& m_shared;
};

}  // namespace

std::string expected_hash(model::SessionDocument sent, const std::string& creator)
{
  sent["creator"] = creator;
  return model::session_hash(sent);
}

const char* to_string(UploadAction action)
{
  switch (action) {
    case UploadAction::created:
      return "created";
    case UploadAction::updated:
      return "updated";
    case UploadAction::unchanged:
      return "unchanged";
  }
  return "unknown";
}

stdfs::path upload_record_file(const stdfs::path& target_dir)
{
  return target_dir / "cas" / "sessions.json";
}

Result<UploadRecord> load_upload_record(const stdfs::path& target_dir)
{
  const auto file = upload_record_file(target_dir);
  std::error_code error;
  if (!stdfs::exists(file, error)) {
    return UploadRecord{};
  }
  auto text = fs::read_text_file(file);
  if (!text) {
    return forward_error(std::move(text.error()));
  }
  const auto json = nlohmann::json::parse(*text, nullptr, false);
  UploadRecord record;
  if (!json.is_object() || !json.contains("sessions") || !json.at("sessions").is_object()) {
    return fail(ErrorKind::io, file.string() + ": not an upload record (delete it to start over)");
  }
  record.cas = json.value("cas", "");
  if (json.contains("cas_key") && json.at("cas_key").is_string()) {
    record.cas_key = json.at("cas_key").get<std::string>();
  }
  for (const auto& [name, entry] : json.at("sessions").items()) {
    if (!entry.is_object() || !entry.contains("chain") || !entry.at("chain").is_array()) {
      return fail(ErrorKind::io, file.string() + ": sessions." + name + ": expected a chain");
    }
    auto& chain = record.chains[name];
    for (const auto& hash : entry.at("chain")) {
      if (hash.is_string()) {
        chain.push_back(hash.get<std::string>());
      }
    }
  }
  return record;
}

Result<void> save_upload_record(const stdfs::path& target_dir, const UploadRecord& record)
{
  nlohmann::ordered_json sessions = nlohmann::ordered_json::object();
  for (const auto& [name, chain] : record.chains) {
    sessions[name] = {{"hash", chain.empty() ? "" : chain.front()}, {"chain", chain}};
  }
  nlohmann::ordered_json json{{"cas", record.cas}};
  if (record.cas_key) {
    json["cas_key"] = *record.cas_key;
  }
  json["sessions"] = std::move(sessions);
  return fs::write_file_atomically(upload_record_file(target_dir), json.dump(2) + "\n");
}

std::vector<const model::Session*> upload_order(const std::vector<model::Session>& sessions)
{
  std::map<std::string, const model::Session*> by_name;
  for (const auto& session : sessions) {
    by_name.emplace(session.name, &session);
  }
  std::vector<const model::Session*> order;
  std::set<std::string> placed;
  std::set<std::string> visiting;
  // Depth-first: a session's parent namespace and import sources first. A cycle of imports
  // cannot be ordered; the CAS then reports the import it cannot check.
  std::function<void(const model::Session&)> place = [&](const model::Session& session) {
    if (placed.contains(session.name) || !visiting.insert(session.name).second) {
      return;
    }
    std::vector<std::string> before;
    if (const auto slash = session.name.rfind('/'); slash != std::string::npos) {
      before.push_back(session.name.substr(0, slash));
    }
    for (auto& source : model::imported_sessions(session.document)) {
      before.push_back(std::move(source));
    }
    for (const auto& name : before) {
      if (const auto found = by_name.find(name); found != by_name.end()) {
        place(*found->second);
      }
    }
    visiting.erase(session.name);
    if (placed.insert(session.name).second) {
      order.push_back(&session);
    }
  };
  std::vector<const model::Session*> by_depth;
  for (const auto& session : sessions) {
    by_depth.push_back(&session);
  }
  std::stable_sort(by_depth.begin(), by_depth.end(), [](const auto* a, const auto* b) {
    return depth(a->name) < depth(b->name);
  });
  for (const auto* session : by_depth) {
    place(*session);
  }
  return order;
}

namespace {

// The sessions of `order` that session `at` must follow: its namespace and the sources it imports
// from, where they come before it in the order (a cycle keeps the order's choice).
std::vector<std::size_t> predecessors_in_order(const std::vector<const model::Session*>& order,
                                               std::size_t at,
                                               const std::map<std::string, std::size_t>& position)
{
  const auto& session = *order[at];
  std::vector<std::string> before = model::imported_sessions(session.document);
  if (const auto slash = session.name.rfind('/'); slash != std::string::npos) {
    before.push_back(session.name.substr(0, slash));
  }
  std::vector<std::size_t> found;
  for (const auto& name : before) {
    if (const auto it = position.find(name); it != position.end() && it->second < at) {
      found.push_back(it->second);
    }
  }
  return found;
}

// Runs the uploads of `order` on several workers, each session once all it must follow are done.
class UploadScheduler {
 public:
  UploadScheduler(const std::vector<const model::Session*>& order,
                  const std::optional<CurrentVersions>& known,
                  const std::string& own_key_hash,
                  UploadRecord& record,
                  UploadReport& report)
      : m_order(order),
        m_known(known),
        m_own_key_hash(own_key_hash),
        m_record(record),
        m_report(report),
        m_waiting(order.size(), 0),
        m_followers(order.size()),
        m_done(order.size())
  {
    std::map<std::string, std::size_t> position;
    for (std::size_t i = 0; i < order.size(); ++i) {
      position.emplace(order[i]->name, i);
    }
    for (std::size_t i = 0; i < order.size(); ++i) {
      for (const auto before : predecessors_in_order(order, i, position)) {
        m_followers[before].push_back(i);
        ++m_waiting[i];
      }
      if (m_waiting[i] == 0) {
        m_ready.push_back(i);
      }
    }
  }

  // One worker: takes ready sessions until none is left or something failed.
  void work(CasClient& client)
  {
    SessionUploader uploader(client, m_own_key_hash, m_record, m_report, m_mutex);
    std::unique_lock lock(m_mutex);
    while (true) {
      m_changed.wait(lock, [this] { return !m_ready.empty() || m_in_flight == 0 || m_failed; });
      if (m_failed || m_ready.empty()) {
        m_changed.notify_all();
        return;
      }
      const auto at = m_ready.front();
      m_ready.pop_front();
      ++m_in_flight;
      lock.unlock();
      const auto& session = *m_order[at];
      const std::optional<CurrentVersion>* entry = nullptr;
      if (m_known) {
        if (const auto found = m_known->find(session.name); found != m_known->end()) {
          entry = &found->second;
        }
      }
      auto uploaded = uploader.upload(session, entry);
      lock.lock();
      --m_in_flight;
      if (!uploaded) {
        m_failed = true;
        m_errors.push_back(std::move(uploaded.error()));
      } else {
        spdlog::info(
            "session {}: {} ({})", uploaded->name, to_string(uploaded->action), uploaded->hash);
        remember(m_record, uploaded->name, uploaded->hash);
        m_done[at] = std::move(*uploaded);
        for (const auto follower : m_followers[at]) {
          if (--m_waiting[follower] == 0) {
            m_ready.push_back(follower);
          }
        }
      }
      m_changed.notify_all();
    }
  }

  // The outcome once every worker returned: the report in upload order, or every failure.
  Result<void> finish()
  {
    for (auto& done : m_done) {
      if (done) {
        m_report.sessions.push_back(std::move(*done));
      }
    }
    if (m_errors.empty()) {
      return {};
    }
    if (m_errors.size() == 1) {
      return tl::unexpected(std::move(m_errors.front()));
    }
    Error combined = m_errors.front();
    combined.message = std::to_string(m_errors.size()) + " sessions failed to upload:";
    for (const auto& error : m_errors) {
      combined.message += "\n  " + error.message;
    }
    return tl::unexpected(std::move(combined));
  }

 private:
  const std::vector<const model::Session*>& m_order;
  const std::optional<CurrentVersions>& m_known;
  const std::string& m_own_key_hash;
  UploadRecord& m_record;
  UploadReport& m_report;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::vector<std::size_t> m_waiting;                 // per session: predecessors not yet done
  std::vector<std::vector<std::size_t>> m_followers;  // per session: who waits for it
  std::deque<std::size_t> m_ready;
  std::vector<std::optional<UploadedSession>> m_done;
  std::vector<Error> m_errors;
  std::size_t m_in_flight = 0;
  bool m_failed = false;
};

}  // namespace

Result<UploadReport> upload_sessions(CasClient& client,
                                     const std::vector<model::Session>& sessions,
                                     const std::string& own_key_hash,
                                     UploadRecord& record,
                                     const UploadConcurrency& concurrency,
                                     const CurrentVersions* read_before)
{
  UploadReport report{.cas = record.cas};
  // One batch read of the current versions where the CAS offers it, instead of a GET per session.
  std::optional<CurrentVersions> known;
  if (read_before != nullptr) {
    known = *read_before;
  } else if (sessions.size() > 1) {
    std::vector<std::string> names;
    for (const auto& session : sessions) {
      names.push_back(session.name);
    }
    auto versions = client.current_versions(names);
    if (!versions) {
      return forward_error(std::move(versions.error()));
    }
    known = std::move(*versions);
  }
  const auto order = upload_order(sessions);
  UploadScheduler scheduler(order, known, own_key_hash, record, report);
  // More connections only when there is more than one session to send at a time.
  std::vector<std::unique_ptr<HttpTransport>> transports;
  const auto wanted = std::min(concurrency.requests, order.size());
  while (concurrency.another_transport && transports.size() + 1 < wanted) {
    auto transport = concurrency.another_transport();
    if (!transport) {
      spdlog::debug("one connection fewer: {}", transport.error().message);
      break;
    }
    transports.push_back(std::move(*transport));
  }
  std::vector<std::unique_ptr<CasClient>> clients;
  std::vector<std::thread> workers;
  for (auto& transport : transports) {
    clients.push_back(std::make_unique<CasClient>(*transport));
    workers.emplace_back([&scheduler, worker = clients.back().get()] { scheduler.work(*worker); });
  }
  scheduler.work(client);
  for (auto& worker : workers) {
    worker.join();
  }
  TRY(scheduler.finish());
  return report;
}

}  // namespace sconectl::cas
