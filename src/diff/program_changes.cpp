#include "program_changes.hpp"

#include "sconectl/util/json_member.hpp"

#include <algorithm>

namespace sconectl::diff::detail {

namespace {

using json::member;

class ProgramComparison {
 public:
  ProgramComparison(const Json& live, const Json& proposed, ChangeList& changes)
      : m_live(live), m_proposed(proposed), m_changes(changes)
  {
  }

  void run()
  {
    compare_services();
    compare_images();
  }

 private:
  // A string quoted, a list (a command) as JSON, an absent value as (none).
  static std::string shown_value(const Json& value)
  {
    if (value.is_null()) {
      return "(none)";
    }
    return value.is_string() ? shown(value.get<std::string>()) : value.dump();
  }

  void compare_services()
  {
    const auto live = by_name(member(m_live, "services"));
    const auto proposed = by_name(member(m_proposed, "services"));
    for (const auto& name : service_names(m_live, m_proposed)) {
      const auto* before = find(live, name);
      const auto* after = find(proposed, name);
      const auto subject = "service " + name;
      if (before == nullptr) {
        m_changes.add(Area::program, "service-added", subject, "service " + name + " is added");
        continue;
      }
      if (after == nullptr) {
        m_changes.add(
            Area::program,
            "service-removed",
            subject,
            "service " + name + " is removed: its pods can no longer get their configuration");
        continue;
      }
      for (const auto* field : {"command", "pwd"}) {
        const auto& was = member(*before, field);
        const auto& is = member(*after, field);
        if (was != is) {
          auto& change = m_changes.add(Area::program,
                                       std::string(field) + "-changed",
                                       subject,
                                       "service " + name + ": " + field + " changes from "
                                           + shown_value(was) + " to " + shown_value(is));
          change.before = was;
          change.after = is;
        }
      }
      compare_environment(name, member(*before, "environment"), member(*after, "environment"));
      Json rest_before = *before;
      Json rest_after = *after;
      for (const auto* field : {"name", "command", "pwd", "environment", "attestation"}) {
        rest_before.erase(field);
        rest_after.erase(field);
      }
      if (rest_before != rest_after) {
        auto& change = m_changes.add(Area::program,
                                     "service-changed",
                                     subject,
                                     "service " + name + ": other settings change");
        m_changes.keep_values(change, rest_before, rest_after);
      }
    }
  }

  // Injection files belong to images (images[].injection_files), which services name by
  // `image_name`; the policy generator gives each service an image of its own name.
  void compare_images()
  {
    const auto live = by_name(member(m_live, "images"));
    const auto proposed = by_name(member(m_proposed, "images"));
    std::vector<std::string> names;
    for (const auto* images : {&proposed, &live}) {
      for (const auto& [name, image] : *images) {
        if (std::find(names.begin(), names.end(), name) == names.end()) {
          names.push_back(name);
        }
      }
    }
    for (const auto& name : names) {
      const auto* before = find(live, name);
      const auto* after = find(proposed, name);
      const auto subject = "image " + name;
      const auto described = subject + users_of(name);
      if (before == nullptr || after == nullptr) {
        m_changes.add(Area::program,
                      before == nullptr ? "image-added" : "image-removed",
                      subject,
                      described + (before == nullptr ? " is added" : " is removed"));
        continue;
      }
      compare_files(subject,
                    described,
                    member(*before, "injection_files"),
                    member(*after, "injection_files"));
      Json rest_before = *before;
      Json rest_after = *after;
      for (const auto* field : {"name", "injection_files"}) {
        rest_before.erase(field);
        rest_after.erase(field);
      }
      if (rest_before != rest_after) {
        auto& change = m_changes.add(
            Area::program, "image-changed", subject, described + ": other settings change");
        m_changes.keep_values(change, rest_before, rest_after);
      }
    }
  }

  // " of service a, b" for the services of either version that run image `image`, else "".
  std::string users_of(const std::string& image) const
  {
    std::string users;
    for (const auto& name : service_names(m_live, m_proposed)) {
      for (const auto* document : {&m_proposed, &m_live}) {
        const auto* service = find(by_name(member(*document, "services")), name);
        if (service != nullptr && member(*service, "image_name") == image) {
          users += (users.empty() ? " of service " : ", ") + name;
          break;
        }
      }
    }
    return users;
  }

  void compare_environment(const std::string& service, const Json& was, const Json& is)
  {
    const auto subject = "service " + service;
    const Json empty = Json::object();
    const auto& before = was.is_object() ? was : empty;
    const auto& after = is.is_object() ? is : empty;
    for (const auto& [variable, value] : after.items()) {
      if (!before.contains(variable)) {
        auto& change =
            m_changes.add(Area::program,
                          "environment-added",
                          subject,
                          "service " + service + ": " + variable
                              + (m_changes.show_values() ? "=" + shown(text(value)) : std::string())
                              + " is added");
        m_changes.keep_values(change, Json(), value);
      } else if (before.at(variable) != value) {
        auto& change = m_changes.add(
            Area::program,
            "environment-changed",
            subject,
            "service " + service + ": " + variable + " changes"
                + (m_changes.show_values()
                       ? " from " + shown(text(before.at(variable))) + " to " + shown(text(value))
                       : std::string()));
        m_changes.keep_values(change, before.at(variable), value);
      }
    }
    for (const auto& [variable, value] : before.items()) {
      if (!after.contains(variable)) {
        auto& change = m_changes.add(Area::program,
                                     "environment-removed",
                                     subject,
                                     "service " + service + ": " + variable + " is removed");
        m_changes.keep_values(change, value, Json());
      }
    }
  }

  // `described` names the image and the services that run it, for the messages.
  void compare_files(const std::string& subject,
                     const std::string& described,
                     const Json& was,
                     const Json& is)
  {
    const auto by_path = [](const Json& files) {
      std::vector<std::pair<std::string, const Json*>> found;
      if (files.is_array()) {
        for (const auto& file : files) {
          found.emplace_back(text(member(file, "path")), &file);
        }
      }
      return found;
    };
    const auto before = by_path(was);
    const auto after = by_path(is);
    for (const auto& [path, file] : after) {
      const auto* old = find(before, path);
      if (old == nullptr) {
        auto& change = m_changes.add(Area::program,
                                     "file-added",
                                     subject,
                                     described + ": injection file " + path + " is added");
        m_changes.keep_values(change, Json(), *file);
      } else if (*old != *file) {
        auto& change = m_changes.add(Area::program,
                                     "file-changed",
                                     subject,
                                     described + ": injection file " + path + " changes");
        m_changes.keep_values(change, *old, *file);
      }
    }
    for (const auto& [path, file] : before) {
      if (find(after, path) == nullptr) {
        auto& change = m_changes.add(Area::program,
                                     "file-removed",
                                     subject,
                                     described + ": injection file " + path + " is removed");
        m_changes.keep_values(change, *file, Json());
      }
    }
  }

  const Json& m_live;
  const Json& m_proposed;
  ChangeList& m_changes;
};

}  // namespace

void compare_program(const Json& live, const Json& proposed, ChangeList& changes)
{
  ProgramComparison(live, proposed, changes).run();
}

}  // namespace sconectl::diff::detail
