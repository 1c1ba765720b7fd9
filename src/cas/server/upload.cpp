#include "access.hpp"
#include "request_handler.hpp"
#include "sconectl/cas/api.hpp"
#include "sconectl/manifest/names.hpp"
#include "secret_generation.hpp"
#include "session_support.hpp"
#include "stored_secrets.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <variant>

namespace sconectl::cas::server {

namespace {

using Json = model::SessionDocument;

constexpr std::size_t k_hash_length = 64;

bool is_session_content_type(std::string_view header)
{
  std::string media(header.substr(0, header.find(';')));
  media.erase(std::remove_if(
                  media.begin(), media.end(), [](unsigned char c) { return std::isspace(c) != 0; }),
              media.end());
  std::transform(media.begin(), media.end(), media.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return media == "application/yaml" || media == "application/x-yaml" || media == "text/yaml";
}

// The name and predecessor of an uploaded session, or why the upload is refused (400).
struct Header {
  std::string name;
  std::optional<std::string> predecessor;
  std::vector<std::string> problems;
};

Header read_header(const Json& session)
{
  Header header;
  if (!session.is_object()) {
    header.problems.push_back("a session must be a mapping");
    return header;
  }
  if (!session.contains("name") || !session.at("name").is_string()) {
    header.problems.push_back("name: a session needs a name (a string)");
  } else {
    header.name = session.at("name").get<std::string>();
    if (const auto rule = manifest::check_session_name(header.name); !rule.empty()) {
      header.problems.push_back("name: '" + header.name.substr(0, 200)
                                + "' is not a valid session name; expected " + rule);
    }
  }
  if (session.contains("creator")) {
    header.problems.push_back("creator is set by CAS; remove it from the session");
  }
  if (session.contains("predecessor") && session.contains("namespace_hash")) {
    header.problems.push_back(
        "namespace_hash: is checked when a session is created and cannot be combined with "
        "predecessor");
  }
  if (session.contains("predecessor")) {
    const auto& predecessor = session.at("predecessor");
    if (!predecessor.is_string()
        || !manifest::is_hex(predecessor.get<std::string>(), k_hash_length)) {
      header.problems.push_back(
          "predecessor: expected the 64 hex digit hash of the version this one replaces");
    } else {
      header.predecessor = predecessor.get<std::string>();
    }
  }
  return header;
}

std::string parent_of(const std::string& name)
{
  const auto slash = name.rfind('/');
  return slash == std::string::npos ? std::string() : name.substr(0, slash);
}

CasResponse store_write_failure(const Error& error)
{
  return error_response(500, {"the local CAS cannot use its session store", error.message});
}

// What an accepted upload writes.
struct PreparedWrite {
  StoredVersion version;
  SecretValues secrets;
  bool created = false;
};

CasResponse receipt(const PreparedWrite& write)
{
  return CasResponse{.status = write.created ? 201 : 200,
                     .body = to_json(UploadReceipt{.name = write.version.name,
                                                   .hash = write.version.hash,
                                                   .predecessor = write.version.predecessor})
                                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

std::optional<CasResponse> write_prepared(Store& store, const PreparedWrite& write)
{
  if (auto stored = store.add_version(write.version); !stored) {
    return store_write_failure(stored.error());
  }
  if (auto stored = store.replace_secrets(write.version.name, write.secrets); !stored) {
    return store_write_failure(stored.error());
  }
  return std::nullopt;
}

// One upload: its checks and its secrets worked out from a store (prepare), then written. The
// store's one writer runs it inside a transaction (GroupCommit), where what it writes is undone
// unless it answers 2xx; prepare() alone may also run on a reader's snapshot.
class Upload {
 public:
  Upload(Store& store, const Json& uploaded, const Header& header, const std::string& requester)
      : m_store(store), m_uploaded(uploaded), m_header(header), m_requester(requester)
  {
  }

  CasResponse run()
  {
    auto prepared = prepare();
    if (auto* refused = std::get_if<CasResponse>(&prepared)) {
      return *refused;
    }
    const auto& write = std::get<PreparedWrite>(prepared);
    if (auto failed = write_prepared(m_store, write)) {
      return *failed;
    }
    return receipt(write);
  }

  // The refusal, or what to write. Writes nothing.
  std::variant<CasResponse, PreparedWrite> prepare()
  {
    auto current = m_store.current(m_header.name);
    if (!current) {
      return store_write_failure(current.error());
    }
    m_current = std::move(*current);
    if (auto refused = m_header.predecessor ? check_update() : check_create()) {
      return *refused;
    }
    auto problems = problems_of_session();
    if (m_lookup_failure) {
      return store_write_failure(*m_lookup_failure);
    }
    if (!problems.empty()) {
      problems.insert(problems.begin(), "session '" + m_header.name + "' is not valid");
      return error_response(400, std::move(problems));
    }
    auto version = stored_version();
    auto secrets = generate(version);
    if (auto* refused = std::get_if<CasResponse>(&secrets)) {
      return *refused;
    }
    return PreparedWrite{.version = std::move(version),
                         .secrets = std::move(std::get<SecretValues>(secrets)),
                         .created = !m_current};
  }

 private:
  std::optional<CasResponse> check_create()
  {
    const auto& name = m_header.name;
    if (m_current) {
      // The current hash is only for a client that could read it anyway: to anybody else it is
      // an offline oracle for the session's explicit values. They get the 403 their read gets.
      const auto secrets = stored_secret_text(m_store, name);
      if (!is_permitted(m_current->document, Operation::read, m_requester, secrets)
          && !is_permitted(m_current->document, Operation::update, m_requester, secrets)) {
        return error_response(403,
                              {"session '" + name + "' exists, and its access_policy admits client "
                               + m_requester + " neither to read nor to update it"});
      }
      return error_response(
          409,
          {"session '" + name + "' exists; to update it, set predecessor to " + m_current->hash},
          m_current->hash);
    }
    const auto parent = parent_of(name);
    const auto namespace_hash = m_uploaded.value("namespace_hash", std::string());
    if (parent.empty()) {
      if (!namespace_hash.empty()) {
        return error_response(
            400,
            {"session '" + name + "': namespace_hash is set, but the session has no namespace"});
      }
      return std::nullopt;  // any client may create a top-level session
    }
    auto namespace_session = m_store.current(parent);
    if (!namespace_session) {
      return store_write_failure(namespace_session.error());
    }
    if (!*namespace_session) {
      return error_response(
          404,
          {"namespace session '" + parent + "' does not exist; create it before '" + name + "'"});
    }
    if (!is_permitted((*namespace_session)->document,
                      Operation::create_sessions,
                      m_requester,
                      stored_secret_text(m_store, parent))) {
      return error_response(
          403,
          {"namespace '" + parent + "': access_policy.create_sessions does not admit client "
           + m_requester});
    }
    // namespace_hash pins the namespace's version at creation: created into another, the session
    // could inherit exports and access rules its author never saw.
    if (!namespace_hash.empty() && namespace_hash != (*namespace_session)->hash) {
      return error_response(409,
                            {"session '" + name + "': namespace_hash " + namespace_hash
                                 + " is not the current version of namespace '" + parent + "'",
                             "current: " + (*namespace_session)->hash},
                            (*namespace_session)->hash);
    }
    return std::nullopt;
  }

  // Access before the predecessor: a client that may not update learns nothing about versions.
  std::optional<CasResponse> check_update()
  {
    const auto& name = m_header.name;
    if (!m_current) {
      return error_response(
          404, {"session '" + name + "' does not exist; to create it, leave out predecessor"});
    }
    if (!is_permitted(m_current->document,
                      Operation::update,
                      m_requester,
                      stored_secret_text(m_store, name))) {
      return error_response(
          403,
          {"session '" + name + "': access_policy.update does not admit client " + m_requester});
    }
    if (*m_header.predecessor != m_current->hash) {
      return error_response(409,
                            {"session '" + name + "': predecessor " + *m_header.predecessor
                                 + " is not the current version " + m_current->hash
                                 + "; it was updated since, read it again",
                             "current: " + m_current->hash},
                            m_current->hash);
    }
    return std::nullopt;
  }

  // Everything wrong with the session (one message each); imports are checked against the
  // current versions of the sessions they name.
  std::vector<std::string> problems_of_session()
  {
    auto problems = check_access_policy(m_uploaded);
    for (auto& problem : unsupported_constructs(m_uploaded)) {
      problems.push_back(std::move(problem));
    }
    const model::SessionLookup lookup = [this](const std::string& other) -> const Json* {
      if (other == m_header.name) {
        return &m_uploaded;
      }
      if (const auto found = m_others.find(other); found != m_others.end()) {
        return &found->second;
      }
      auto version = m_store.current(other);
      if (!version) {
        m_lookup_failure = version.error();
        return nullptr;
      }
      return *version ? &m_others.emplace(other, std::move((*version)->document)).first->second
                      : nullptr;
    };
    // An import from a session that does not exist yet is accepted: sessions that import from
    // each other in a ring can only be uploaded one at a time, and the import is resolved when
    // the program asks for its configuration. An existing source must export what is imported.
    for (const auto& problem :
         model::validate_session(m_uploaded, lookup, model::MissingSources::allowed)) {
      problems.push_back(model::format(problem));
    }
    return problems;
  }

  // The document as stored: `creator` stays the session's first uploader, so CREATOR keeps
  // naming the same client across updates.
  StoredVersion stored_version() const
  {
    const auto creator = m_current ? m_current->creator : m_requester;
    StoredVersion version{.name = m_header.name,
                          .predecessor = m_header.predecessor,
                          .creator = creator,
                          .document = m_uploaded};
    version.document["creator"] = creator;
    version.hash = model::session_hash(version.document);
    // As SCONE's CAS shows it, a first version says `predecessor: null`: Scontain's exercises walk
    // a history until the predecessor they read is None. A null predecessor is not hashed.
    auto shown = version.document;
    if (!m_header.predecessor) {
      shown["predecessor"] = nullptr;
    }
    version.yaml = model::to_yaml(shown);
    return version;
  }

  std::variant<CasResponse, SecretValues> generate(const StoredVersion& version)
  {
    SecretValues previous_values;
    std::optional<PreviousVersion> previous;
    if (m_current) {
      auto values = m_store.secrets(version.name);
      if (!values) {
        return store_write_failure(values.error());
      }
      previous_values = std::move(*values);
      previous.emplace(PreviousVersion{m_current->document, previous_values});
    }
    // Imports are resolved as this version, so exports pinned to another version do not reach it.
    const SecretLookup imported = [this, &version](const std::string& session,
                                                   const std::string& secret,
                                                   const std::optional<std::string>& session_hash) {
      return find_stored_secret(
          m_store,
          session,
          secret,
          Importer{.session = version.name, .hash = version.hash, .source_hash = session_hash});
    };
    auto generated = generate_secrets(version.document, previous, imported);
    if (!generated) {
      const auto& error = generated.error();
      return error.kind == ErrorKind::manifest
                 ? error_response(
                     400,
                     {"session '" + version.name + "': cannot generate its secrets", error.message})
                 : error_response(500,
                                  {"session '" + version.name + "': generating its secrets failed",
                                   error.message});
    }
    return std::move(*generated);
  }

  Store& m_store;
  const Json& m_uploaded;
  const Header& m_header;
  const std::string& m_requester;
  std::optional<StoredVersion> m_current;
  std::map<std::string, Json> m_others;
  std::optional<Error> m_lookup_failure;
};

}  // namespace

CasResponse RequestHandler::upload(const CasRequest& request)
{
  if (!request.requester) {
    return error_response(401, {"uploading a session needs a client certificate"});
  }
  if (!is_session_content_type(request.content_type)) {
    return error_response(415,
                          {"a session is uploaded as Content-Type application/yaml, not '"
                           + request.content_type.substr(0, 100) + "'"});
  }
  auto parsed = model::parse_session_yaml(request.body);
  if (!parsed) {
    return error_response(400, {"the session is not readable YAML", parsed.error().message});
  }
  // `predecessor: ~` (null) is how SCONE's CAS shows a first version, and how hand-written
  // sessions say "none": no predecessor.
  if (const auto found = parsed->find("predecessor"); found != parsed->end() && found->is_null()) {
    parsed->erase(found);
  }
  auto header = read_header(*parsed);
  if (!header.problems.empty()) {
    return error_response(400, std::move(header.problems));
  }
  // The checks and the secrets (the costly part) are worked out on a snapshot, side by side with
  // other uploads. A refusal is answered from it; an accepted upload is written by the writer as
  // prepared if nothing it read has changed since, else worked out again there.
  std::optional<PreparedWrite> prepared;
  Store::ReadSet reads;
  if (auto snapshot = m_readers.snapshot()) {
    auto& store = snapshot->store();
    store.record_reads();
    auto outcome = Upload(store, *parsed, header, *request.requester).prepare();
    reads = store.take_reads();
    if (auto* write = std::get_if<PreparedWrite>(&outcome)) {
      prepared = std::move(*write);
    } else if (const auto& refused = std::get<CasResponse>(outcome); refused.status / 100 == 4) {
      return refused;
    }
  }
  CasResponse response;
  auto written = m_writes.run([&](Store& store) {
    auto unchanged = prepared ? store.unchanged_since(reads) : Result<bool>(false);
    if (unchanged && *unchanged) {
      auto failed = write_prepared(store, *prepared);
      response = failed ? *failed : receipt(*prepared);
    } else {
      response = Upload(store, *parsed, header, *request.requester).run();
    }
    return response.status / 100 == 2;
  });
  if (!written) {
    return store_write_failure(written.error());
  }
  return response;
}

}  // namespace sconectl::cas::server
