#include "sconectl/diff/session_diff.hpp"

#include "change_list.hpp"
#include "program_changes.hpp"
#include "sconectl/util/json_member.hpp"

#include <algorithm>
#include <set>

namespace sconectl::diff {

namespace {

using detail::by_name;
using detail::ChangeList;
using detail::entries;
using detail::find;
using detail::Json;
using detail::missing_from;
using detail::service_names;
using detail::shown;
using detail::text;
using json::member;

// Fields a CAS adds to what was uploaded: they change with every version.
const std::set<std::string> k_cas_fields = {"creator", "predecessor"};
const std::set<std::string> k_compared_top_level = {
    "version", "name", "services", "images", "secrets", "security", "access_policy"};
// Size of an ascii or binary secret without `size` (docs/cas.md).
constexpr int k_default_secret_size = 20;
constexpr const char* k_default_key_type = "P-256";

class Comparison {
 public:
  Comparison(const Json& live, const Json& proposed, const CompareOptions& options)
      : m_live(live), m_proposed(proposed), m_changes(options)
  {
  }

  std::vector<Change> run()
  {
    compare_measurements();
    compare_security();
    compare_secrets();
    compare_access();
    detail::compare_program(m_live, m_proposed, m_changes);
    compare_other();
    if (!m_changes.empty()) {
      note_regenerated_on_every_update();
    }
    auto changes = m_changes.take();
    std::stable_sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) {
      return static_cast<int>(a.area) < static_cast<int>(b.area);
    });
    return changes;
  }

 private:
  void compare_measurements()
  {
    const auto live = by_name(member(m_live, "services"));
    const auto proposed = by_name(member(m_proposed, "services"));
    for (const auto& name : service_names(m_live, m_proposed)) {
      const auto* before = find(live, name);
      const auto* after = find(proposed, name);
      if (before == nullptr || after == nullptr) {
        continue;  // a service added or removed is a program change
      }
      const auto& was = member(*before, "attestation");
      const auto& is = member(*after, "attestation");
      const auto old_values = entries(member(was, "mrenclave"));
      const auto new_values = entries(member(is, "mrenclave"));
      const auto subject = "service " + name;
      for (const auto& value : missing_from(new_values, old_values)) {
        auto& change = m_changes.add(Area::attestation,
                                     "measurement-added",
                                     subject,
                                     "service " + name + " now accepts measurement " + value);
        change.after = value;
      }
      for (const auto& value : missing_from(old_values, new_values)) {
        auto& change =
            m_changes.add(Area::attestation,
                          "measurement-removed",
                          subject,
                          "service " + name + " no longer accepts measurement " + value
                              + ": pods running it fail attestation at their next start");
        change.before = value;
        change.destructive = true;
      }
      Json rest_before = was.is_object() ? was : Json::object();
      Json rest_after = is.is_object() ? is : Json::object();
      rest_before.erase("mrenclave");
      rest_after.erase("mrenclave");
      if (rest_before != rest_after) {
        auto& change = m_changes.add(Area::attestation,
                                     "service-attestation-changed",
                                     subject,
                                     "service " + name + ": attestation settings change");
        change.before = rest_before;
        change.after = rest_after;
      }
    }
  }

  void compare_security()
  {
    const auto& was = member(member(m_live, "security"), "attestation");
    const auto& is = member(member(m_proposed, "security"), "attestation");
    const auto old_tolerated = entries(member(was, "tolerate"));
    const auto new_tolerated = entries(member(is, "tolerate"));
    for (const auto& value : missing_from(new_tolerated, old_tolerated)) {
      auto& change = m_changes.add(Area::attestation,
                                   "toleration-added",
                                   "security.attestation.tolerate",
                                   "attestation now tolerates " + value + ": it proves less");
      change.after = value;
      change.weakens = true;
    }
    for (const auto& value : missing_from(old_tolerated, new_tolerated)) {
      auto& change = m_changes.add(
          Area::attestation,
          "toleration-removed",
          "security.attestation.tolerate",
          "attestation no longer tolerates " + value + ": programs that need it fail attestation");
      change.before = value;
    }
    const auto old_ignored = entries(member(was, "ignore_advisories"));
    const auto new_ignored = entries(member(is, "ignore_advisories"));
    for (const auto& value : missing_from(new_ignored, old_ignored)) {
      auto& change =
          m_changes.add(Area::attestation,
                        "advisory-ignored",
                        "security.attestation.ignore_advisories",
                        "attestation now ignores advisory " + value + ": it proves less");
      change.after = value;
      change.weakens = true;
    }
    for (const auto& value : missing_from(old_ignored, new_ignored)) {
      auto& change = m_changes.add(Area::attestation,
                                   "advisory-no-longer-ignored",
                                   "security.attestation.ignore_advisories",
                                   "attestation no longer ignores advisory " + value);
      change.before = value;
    }
    const auto old_mode = text(member(was, "mode"), "hardware");
    const auto new_mode = text(member(is, "mode"), "hardware");
    if (old_mode != new_mode) {
      auto& change =
          m_changes.add(Area::attestation,
                        "attestation-mode-changed",
                        "security.attestation.mode",
                        "attestation mode changes from " + old_mode + " to " + new_mode
                            + (new_mode == "none" ? ": programs are no longer attested" : ""));
      change.before = old_mode;
      change.after = new_mode;
      change.weakens = new_mode == "none";
    }
    // Everything else in `security`, security.attestation's other keys (the MAA url) included.
    const auto rest_of = [](const Json& document) {
      Json rest =
          member(document, "security").is_object() ? member(document, "security") : Json::object();
      if (auto found = rest.find("attestation"); found != rest.end() && found->is_object()) {
        for (const auto* compared : {"tolerate", "ignore_advisories", "mode"}) {
          found->erase(compared);
        }
        if (found->empty()) {
          rest.erase(found);
        }
      }
      return rest;
    };
    const auto rest_before = rest_of(m_live);
    const auto rest_after = rest_of(m_proposed);
    if (rest_before != rest_after) {
      auto& change = m_changes.add(
          Area::attestation, "security-changed", "security", "security settings change");
      change.before = rest_before;
      change.after = rest_after;
    }
  }

  static bool generated(const Json& secret)
  {
    return !secret.contains("value") && !secret.contains("import");
  }

  // Why CAS generates a new value for `after` on an update from `before`, or "" when it keeps the
  // old one (docs/cas.md: ascii and binary values are kept while kind and size stay, private keys
  // only with `migrate: true` in both versions).
  static std::string regeneration_reason(const Json& before, const Json& after)
  {
    const auto old_kind = text(member(before, "kind"));
    const auto new_kind = text(member(after, "kind"));
    if (old_kind != new_kind) {
      return "its kind changes from " + old_kind + " to " + new_kind;
    }
    if (new_kind == "ascii" || new_kind == "binary") {
      const auto size_of = [](const Json& secret) {
        const auto& size = member(secret, "size");
        return size.is_null() ? std::to_string(k_default_secret_size) : text(size);
      };
      if (size_of(before) != size_of(after)) {
        return "its size changes from " + size_of(before) + " to " + size_of(after);
      }
    }
    return "";
  }

  void compare_secrets()
  {
    const auto live = by_name(member(m_live, "secrets"));
    const auto proposed = by_name(member(m_proposed, "secrets"));
    for (const auto& [name, after] : proposed) {
      const auto* before = find(live, name);
      const auto subject = "secret " + name;
      if (before == nullptr) {
        if (after->contains("import")) {
          compare_import(name, nullptr, after);
        } else {
          m_changes.add(Area::secrets,
                        "secret-added",
                        subject,
                        "secret " + name
                            + (generated(*after) ? " is added; CAS generates its value"
                                                 : " is added with a given value"));
        }
        compare_exports(name, Json::object(), *after);
        continue;
      }
      compare_secret(name, *before, *after);
    }
    for (const auto& [name, before] : live) {
      if (find(proposed, name) != nullptr) {
        continue;
      }
      if (before->contains("import")) {
        compare_import(name, before, nullptr);
      } else {
        auto& change = m_changes.add(
            Area::secrets,
            "secret-removed",
            "secret " + name,
            "secret " + name + " is removed"
                + (generated(*before) ? ": the value CAS generated is gone for good" : ""));
        change.destructive = generated(*before);
      }
      compare_exports(name, *before, Json::object());
    }
  }

  void compare_secret(const std::string& name, const Json& before, const Json& after)
  {
    const auto subject = "secret " + name;
    if (generated(before) && generated(after)) {
      if (const auto reason = regeneration_reason(before, after); !reason.empty()) {
        auto& change =
            m_changes.add(Area::secrets,
                          "secret-regenerated",
                          subject,
                          "secret " + name + ": " + reason
                              + ": CAS generates a new value and the old one is gone for good");
        change.destructive = true;
        m_regenerated.insert(name);
      }
    } else if (generated(before) && after.contains("value")) {
      auto& change = m_changes.add(
          Area::secrets,
          "secret-value-given",
          subject,
          "secret " + name + " gets a given value: the value CAS generated is gone for good");
      change.destructive = true;
      m_regenerated.insert(name);
    } else if (before.contains("value") && generated(after)) {
      auto& change = m_changes.add(
          Area::secrets,
          "secret-regenerated",
          subject,
          "secret " + name + " is generated by CAS from now on: the given value is replaced");
      change.destructive = true;
      m_regenerated.insert(name);
    } else if (before.contains("value") && after.contains("value")
               && member(before, "value") != member(after, "value")) {
      // An explicit value is confidential: say that it changed, never what it is.
      m_changes.add(
          Area::secrets, "secret-value-changed", subject, "secret " + name + ": its value changes");
    }
    compare_import(name, &before, &after);
    compare_exports(name, before, after);
    Json rest_before = before;
    Json rest_after = after;
    for (const auto* field : {"value", "import", "export", "export_public", "kind", "size"}) {
      rest_before.erase(field);
      rest_after.erase(field);
    }
    if (rest_before != rest_after && !m_regenerated.count(name)) {
      auto& change = m_changes.add(Area::secrets,
                                   "secret-definition-changed",
                                   subject,
                                   "secret " + name + ": its definition changes");
      // A definition may hold credentials (an AAD token's application secret, tenant and client):
      // those are never shown, the rest only when values may be.
      for (auto* definition : {&rest_before, &rest_after}) {
        for (const auto* credential : model::k_secret_credential_fields) {
          definition->erase(credential);
        }
      }
      m_changes.keep_values(change, rest_before, rest_after);
    }
  }

  // "session demo/app", or "this session" for a document without a name.
  std::string this_session() const
  {
    const auto name = text(member(m_proposed, "name"), text(member(m_live, "name")));
    return name.empty() ? "this session" : "session " + name;
  }

  // An import reads a secret that another session exports to this one. Who may read a secret is
  // decided by the exporting session's `export` (an export-added there), so an import weakens
  // nothing; what it changes is which session's secret this one can use. `before` and `after`
  // are null where the secret is absent.
  void compare_import(const std::string& name, const Json* before, const Json* after)
  {
    const Json was = before == nullptr ? Json() : member(*before, "import");
    const Json is = after == nullptr ? Json() : member(*after, "import");
    if (was == is) {
      return;
    }
    const auto subject = "secret " + name;
    const auto source = [](const Json& import) {
      const auto& secret = member(import, "secret");
      return (secret.is_string() ? "secret " + secret.get<std::string>() : std::string("a secret"))
             + " of session " + text(member(import, "session"), "(none)");
    };
    const auto as = " (imported as secret " + name + ")";
    if (was.is_null()) {
      const bool replaces_generated = before != nullptr && generated(*before);
      auto& change = m_changes.add(
          Area::secrets,
          "import-added",
          subject,
          this_session() + " gains access to " + source(is) + as
              + (replaces_generated  ? ", in place of the value CAS generated: it is gone for good"
                 : before != nullptr ? ", in place of the given value"
                                     : ""));
      change.after = is;
      change.destructive = replaces_generated;
    } else if (is.is_null()) {
      auto& change =
          m_changes.add(Area::secrets,
                        "import-removed",
                        subject,
                        this_session() + " loses access to " + source(was) + as
                            + (after == nullptr    ? ""
                               : generated(*after) ? "; CAS generates its value from now on"
                                                   : "; it has a given value from now on"));
      change.before = was;
    } else {
      auto& change = m_changes.add(Area::secrets,
                                   "import-changed",
                                   subject,
                                   this_session() + ": secret " + name + " is imported from "
                                       + source(is) + " instead of " + source(was));
      change.before = was;
      change.after = is;
    }
  }

  void compare_exports(const std::string& name, const Json& before, const Json& after)
  {
    const auto subject = "secret " + name;
    const auto describe = [](const std::string& entry) {
      const auto parsed = Json::parse(entry, nullptr, false);
      if (parsed.is_object() && parsed.contains("namespace")) {
        return "every session of namespace " + text(parsed.at("namespace"));
      }
      if (parsed.is_object() && parsed.contains("session")) {
        return "session " + text(parsed.at("session"));
      }
      return entry;
    };
    const auto old_exports = entries(member(before, "export"));
    const auto new_exports = entries(member(after, "export"));
    for (const auto& entry : missing_from(new_exports, old_exports)) {
      auto& change = m_changes.add(Area::secrets,
                                   "export-added",
                                   subject,
                                   describe(entry) + " gains access to secret " + name);
      change.after = Json::parse(entry, nullptr, false).is_discarded()
                         ? Json(entry)
                         : Json::parse(entry, nullptr, false);
      change.weakens = true;
    }
    for (const auto& entry : missing_from(old_exports, new_exports)) {
      auto& change = m_changes.add(Area::secrets,
                                   "export-removed",
                                   subject,
                                   describe(entry) + " loses access to secret " + name);
      change.before = Json::parse(entry, nullptr, false).is_discarded()
                          ? Json(entry)
                          : Json::parse(entry, nullptr, false);
    }
    const bool was_public = member(before, "export_public") == true;
    const bool is_public = member(after, "export_public") == true;
    if (was_public != is_public) {
      auto& change =
          m_changes.add(Area::secrets,
                        is_public ? "export-public-added" : "export-public-removed",
                        subject,
                        is_public ? "secret " + name + " becomes readable by anyone"
                                  : "secret " + name + " is no longer readable by anyone");
      change.before = was_public;
      change.after = is_public;
      change.weakens = is_public;
    }
  }

  // Some values CAS makes anew on every update, whatever changed: private keys without
  // `migrate: true` in both versions, and certificates.
  void note_regenerated_on_every_update()
  {
    const auto live = by_name(member(m_live, "secrets"));
    for (const auto& [name, after] : by_name(member(m_proposed, "secrets"))) {
      const auto* before = find(live, name);
      if (before == nullptr || !generated(*before) || !generated(*after)
          || m_regenerated.count(name)) {
        continue;
      }
      const auto kind = text(member(*after, "kind"));
      if (kind == "private-key") {
        const bool migrated = member(*before, "migrate") == true
                              && member(*after, "migrate") == true
                              && text(member(*before, "key_type"), k_default_key_type)
                                     == text(member(*after, "key_type"), k_default_key_type);
        if (!migrated) {
          auto& change = m_changes.add(
              Area::secrets,
              "secret-regenerated",
              "secret " + name,
              "secret " + name
                  + ": a private key without migrate: true in both versions is generated anew on "
                    "every update; the old key is gone for good");
          change.destructive = true;
        }
      } else if (kind == "x509" || kind == "x509-ca") {
        m_changes.add(Area::secrets,
                      "certificate-reissued",
                      "secret " + name,
                      "secret " + name + ": certificates are issued anew on every update");
      }
    }
  }

  void compare_access()
  {
    const auto& was = member(m_live, "access_policy");
    const auto& is = member(m_proposed, "access_policy");
    std::vector<std::string> keys;
    for (const auto* policy : {&is, &was}) {
      if (policy->is_object()) {
        for (const auto& [key, value] : policy->items()) {
          if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
            keys.push_back(key);
          }
        }
      }
    }
    for (const auto& key : keys) {
      // Absent read and update lists mean [CREATOR]; create_sessions defaults to update.
      const auto list_of = [&key](const Json& policy) {
        const auto& value = member(policy, key);
        if (!value.is_null()) {
          return entries(value);
        }
        if (key == "create_sessions") {
          const auto& update = member(policy, "update");
          return update.is_null() ? std::vector<std::string>{"CREATOR"} : entries(update);
        }
        return key == "read" || key == "update" ? std::vector<std::string>{"CREATOR"}
                                                : std::vector<std::string>{};
      };
      const auto before = list_of(was);
      const auto after = list_of(is);
      if (before == after) {
        continue;
      }
      const auto added = missing_from(after, before);
      const bool widened =
          !added.empty() && std::find(after.begin(), after.end(), "NONE") == after.end();
      std::string message = "access_policy." + key + " changes:";
      for (const auto& entry : added) {
        message += " +" + shown(entry);
      }
      for (const auto& entry : missing_from(before, after)) {
        message += " -" + shown(entry);
      }
      auto& change = m_changes.add(Area::access,
                                   widened ? "access-widened" : "access-narrowed",
                                   "access_policy." + key,
                                   message);
      change.before = before;
      change.after = after;
      change.weakens = widened;
    }
  }

  void compare_other()
  {
    std::vector<std::string> keys;
    for (const auto* document : {&m_proposed, &m_live}) {
      for (const auto& [key, value] : document->items()) {
        if (!k_cas_fields.count(key) && !k_compared_top_level.count(key)
            && std::find(keys.begin(), keys.end(), key) == keys.end()) {
          keys.push_back(key);
        }
      }
    }
    if (member(m_live, "version") != member(m_proposed, "version")) {
      keys.insert(keys.begin(), "version");
    }
    for (const auto& key : keys) {
      const auto& was = member(m_live, key);
      const auto& is = member(m_proposed, key);
      if (was != is) {
        auto& change = m_changes.add(Area::other, key + "-changed", key, key + " changes");
        m_changes.keep_values(change, was, is);
      }
    }
  }

  const Json& m_live;
  const Json& m_proposed;
  ChangeList m_changes;
  std::set<std::string> m_regenerated;
};

}  // namespace

std::string_view to_string(Area area)
{
  switch (area) {
    case Area::attestation:
      return "attestation";
    case Area::secrets:
      return "secrets";
    case Area::access:
      return "access";
    case Area::program:
      return "program";
    case Area::other:
      return "other";
  }
  return "other";
}

std::vector<Change> compare_sessions(const model::SessionDocument& live,
                                     const model::SessionDocument& proposed,
                                     const CompareOptions& options)
{
  return Comparison(live, proposed, options).run();
}

nlohmann::ordered_json to_json(const Change& change)
{
  return nlohmann::ordered_json{{"area", to_string(change.area)},
                                {"kind", change.kind},
                                {"subject", change.subject},
                                {"message", change.message},
                                {"before", change.before},
                                {"after", change.after},
                                {"weakens", change.weakens},
                                {"destructive", change.destructive},
                                {"values_hidden", change.values_hidden}};
}

}  // namespace sconectl::diff
