#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sconectl::manifest {

// The `security.attestation.tolerate` values of the CAS session language, with sconectl's own
// `simulation` (model::k_simulation_toleration) last. Mesh `policy.tolerate` takes the same.
[[nodiscard]] const std::vector<std::string_view>& tolerations();

// Naming rules shared by validation and the generators. Each returns an empty string when `text`
// is acceptable, otherwise the reason, phrased to follow "expected ...".

// Environment variable names: a letter or '_' then letters, digits and '_'.
[[nodiscard]] std::string check_variable_name(std::string_view text);

// Secret names: a letter or '_' then letters, digits, '_' and '-', at most 128 characters
// (no ':' or '.', which start a format in $$SCONE::name:format$$).
[[nodiscard]] std::string check_secret_name(std::string_view text);

// One segment of a CAS session name: [A-Za-z0-9_.~-], 1 to 128 characters.
[[nodiscard]] std::string check_session_segment(std::string_view text);

// A CAS namespace or session name: segments as above, separated by '/'.
[[nodiscard]] std::string check_session_name(std::string_view text);

// An OCI image reference: [registry[:port]/]path[:tag][@sha256:<64 hex>], path in lower case.
[[nodiscard]] std::string check_image_reference(std::string_view text);

// A host name or IP address with an optional ":port" (CAS addresses).
[[nodiscard]] std::string check_host_port(std::string_view text);

// True when `text` is exactly `length` hexadecimal digits (hashes, keys).
[[nodiscard]] bool is_hex(std::string_view text, std::size_t length);

// The closest of `candidates` to `word` within a small edit distance, or "" (for "did you mean").
template <class Range>
[[nodiscard]] std::string closest_match(std::string_view word, const Range& candidates);

[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

template <class Range>
std::string closest_match(std::string_view word, const Range& candidates)
{
  std::string best;
  std::size_t best_distance = word.size() <= 4 ? 1 : 2;
  std::string prefix_match;
  std::size_t prefix_matches = 0;
  for (const auto& candidate : candidates) {
    const std::string_view text(candidate);
    const auto distance = edit_distance(word, text);
    if (distance <= best_distance && (best.empty() || distance < best_distance)) {
      best = std::string(text);
      best_distance = distance;
    }
    if (word.size() >= 3 && text.size() > word.size() && text.substr(0, word.size()) == word) {
      prefix_match = std::string(text);
      ++prefix_matches;
    }
  }
  if (best.empty() && prefix_matches == 1) {
    return prefix_match;
  }
  return best;
}

}  // namespace sconectl::manifest
