// SessionChecker (session_checker.hpp): images and services: commands, attestation, measurements
// and signers.

#include "sconectl/manifest/names.hpp"
#include "session_checker.hpp"

namespace sconectl::model::detail {

void SessionChecker::check_images()
{
  const auto* images = list_field(m_session, "images");
  if (images == nullptr) {
    return;
  }
  for (std::size_t i = 0; i < images->size(); ++i) {
    const auto& image = (*images)[i];
    const auto path = "images[" + std::to_string(i) + "]";
    if (const auto* name = string_field(image, "name", path, true);
        name && !m_images.insert(name->get<std::string>()).second) {
      problem(path + ".name", "image '" + name->get<std::string>() + "' is defined twice");
    }
    if (!image.contains("injection_files")
        || fragment_use(image.at("injection_files"), path + ".injection_files")) {
      continue;
    }
    const auto& files = image.at("injection_files");
    if (!files.is_array()) {
      problem(path + ".injection_files", "expected a list of files");
      continue;
    }
    for (std::size_t j = 0; j < files.size(); ++j) {
      const auto file_path = path + ".injection_files[" + std::to_string(j) + "]";
      if (entry_use(files[j], file_path)) {
        continue;
      }
      if (files[j].is_string()) {  // the language's short form: a file of the image, by path
        if (!files[j].get<std::string>().starts_with("/")) {
          problem(file_path, "expected an absolute path");
        }
        continue;
      }
      const auto* target = string_field(files[j], "path", file_path, true);
      if (target && !target->get<std::string>().starts_with("/")) {
        problem(file_path + ".path", "expected an absolute path");
      }
      if (const auto* content = string_field(files[j], "content", file_path, false)) {
        check_references(content->get<std::string>(), file_path + ".content");
      }
      if (files[j].is_object() && files[j].contains("permission")
          && !file_permission(files[j].at("permission"))) {
        problem(file_path + ".permission",
                "expected an octal mode such as 0o600 or 0o700 (at most 0o777)");
      }
    }
  }
}

void SessionChecker::check_services()
{
  const auto* services = list_field(m_session, "services");
  if (services == nullptr) {
    return;
  }
  const bool attestation_off =
      m_session.contains("security") && m_session.at("security").is_object()
      && m_session.at("security").contains("attestation")
      && m_session.at("security").at("attestation").is_object()
      && m_session.at("security").at("attestation").value("mode", Json()) == "none";
  std::set<std::string> names;
  for (std::size_t i = 0; i < services->size(); ++i) {
    const auto& service = (*services)[i];
    const auto path = "services[" + std::to_string(i) + "]";
    if (const auto* name = string_field(service, "name", path, true)) {
      const auto text = name->get<std::string>();
      if (const auto rule = manifest::check_session_segment(text); !rule.empty()) {
        problem(path + ".name", "'" + text + "' is not a valid service name; expected " + rule);
      } else if (!names.insert(text).second) {
        problem(path + ".name", "service '" + text + "' is defined twice");
      }
    }
    check_command(service, path);
    // Optional, as in SCONE: without it the program starts in the image's working directory.
    string_field(service, "pwd", path, false);
    if (const auto* image = string_field(service, "image_name", path, false);
        image && m_images.count(image->get<std::string>()) == 0) {
      problem(path + ".image_name",
              "names image '" + image->get<std::string>() + "', which images[] does not define");
    }
    if (service.contains("environment")
        && !fragment_use(service.at("environment"), path + ".environment")) {
      const auto& environment = service.at("environment");
      if (!environment.is_object()) {
        problem(path + ".environment", "expected a mapping of names to values");
      } else {
        for (const auto& [name, value] : environment.items()) {
          if (name.starts_with(R"(\@\@)")) {
            continue;  // passes the host's variable through: SCONE ignores the value
          }
          if (!value.is_string()) {
            problem(path + ".environment." + name, "expected a string (quote numbers)");
          } else {
            check_references(value.get<std::string>(), path + ".environment." + name);
          }
        }
      }
    }
    check_attestation(service, path, attestation_off);
  }
}

void SessionChecker::check_command(const Json& service, const std::string& path)
{
  // Optional: Scontain's own sessions omit it, and the program then runs with the arguments
  // it was started with.
  if (!service.contains("command")) {
    return;
  }
  const auto& command = service.at("command");
  if (command.is_string()) {
    check_references(command.get<std::string>(), path + ".command");
    return;
  }
  if (!command.is_array() || command.empty()) {
    problem(path + ".command", "expected a non-empty list of strings");
    return;
  }
  for (std::size_t i = 0; i < command.size(); ++i) {
    if (!command[i].is_string()) {
      problem(path + ".command[" + std::to_string(i) + "]", "expected a string");
    } else {
      check_references(command[i].get<std::string>(), path + ".command[" + std::to_string(i) + "]");
    }
  }
}

void SessionChecker::check_attestation(const Json& service,
                                       const std::string& path,
                                       bool attestation_off)
{
  // `mrenclaves: [...]`, the language's older form of attestation.mrenclave, still counts.
  if (service.contains("mrenclaves")) {
    check_measurements(service.at("mrenclaves"), path + ".mrenclaves");
  }
  if (!service.contains("attestation") && service.contains("mrenclaves")) {
    return;
  }
  if (!service.contains("attestation")) {
    if (!attestation_off) {
      problem(path + ".attestation",
              std::string("is required unless security.attestation.mode is none: without it "
                          "any program could claim the service")
                  + (m_session.contains("attestation")
                         ? " (the top-level attestation key is not read: move it under security)"
                         : ""));
    }
    return;
  }
  const auto& attestation = service.at("attestation");
  if (fragment_use(attestation, path + ".attestation")) {
    return;
  }
  const auto variants = attestation.is_array() ? attestation : Json::array({attestation});
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const auto& variant = variants[i];
    const auto at =
        path + ".attestation" + (attestation.is_array() ? "[" + std::to_string(i) + "]" : "");
    if (attestation.is_array() && entry_use(variant, at)) {
      continue;
    }
    if (!variant.is_object() || (!variant.contains("mrenclave") && !variant.contains("signer"))) {
      problem(at, "expected mrenclave and/or signer");
      continue;
    }
    if (variant.contains("signer") && !fragment_use(variant.at("signer"), at + ".signer")) {
      check_signer(variant.at("signer"), at + ".signer");
    }
    if (variant.contains("mrenclave")) {
      check_measurements(variant.at("mrenclave"), at + ".mrenclave");
    }
  }
}

// One MRENCLAVE or a list of them; a secret may stand for the value, the list or an entry.
void SessionChecker::check_measurements(const Json& values, const std::string& path)
{
  if (entry_use(values, path)) {
    return;
  }
  if (!values.is_array()) {
    if (!values.is_string() || !manifest::is_hex(values.get<std::string>(), 64)) {
      problem(path, "expected 64 hex digits");
    }
    return;
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (entry_use(values[i], path + "[" + std::to_string(i) + "]")) {
      continue;
    }
    if (!values[i].is_string() || !manifest::is_hex(values[i].get<std::string>(), 64)) {
      problem(path, "expected 64 hex digits");
    }
  }
}

void SessionChecker::check_signer(const Json& signer, const std::string& path)
{
  if (!signer.is_object()) {
    problem(path, "expected mrsigner and isvprodid, with isvsvn or isvsvn_min/isvsvn_max");
    return;
  }
  if (const auto* mrsigner = string_field(signer, "mrsigner", path, true);
      mrsigner && !manifest::is_hex(mrsigner->get<std::string>(), 64)) {
    problem(path + ".mrsigner", "expected 64 hex digits");
  }
  for (const char* key : {"isvprodid", "isvsvn", "isvsvn_min", "isvsvn_max"}) {
    if (signer.contains(key)
        && (!signer.at(key).is_number_unsigned() || signer.at(key).get<std::uint64_t>() > 65535)) {
      problem(path + "." + key, "expected an integer from 0 to 65535");
    }
  }
  if (signer.contains("isvsvn")
      && (signer.contains("isvsvn_min") || signer.contains("isvsvn_max"))) {
    problem(path + ".isvsvn", "give isvsvn or isvsvn_min/isvsvn_max, not both");
  }
}

}  // namespace sconectl::model::detail
