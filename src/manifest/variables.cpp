#include "sconectl/manifest/variables.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace sconectl::manifest {

namespace {

constexpr std::string_view k_secret_prefix = "$$SCONE::";

bool is_name_start(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_name_char(char c)
{
  return is_name_start(c) || (c >= '0' && c <= '9');
}

// One lexical element of a text, as the expander and the finder both see it.
struct Token {
  enum class Type { literal, variable, malformed } type = Type::literal;
  std::string text;  // literal text, or the malformed snippet
  VariableUse use;
};

// Splits `text` into literals and variable uses, applying the rules documented in the header.
template <class Sink>
void tokenize(std::string_view text, Sink&& sink)
{
  std::string literal;
  std::size_t i = 0;
  auto flush = [&] {
    if (!literal.empty()) {
      sink(Token{.type = Token::Type::literal, .text = std::move(literal)});
      literal.clear();
    }
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c != '$') {
      literal += c;
      ++i;
      continue;
    }
    if (text.substr(i, k_secret_prefix.size()) == k_secret_prefix) {
      const auto end = text.find("$$", i + k_secret_prefix.size());
      const auto stop = end == std::string_view::npos ? text.size() : end + 2;
      literal += text.substr(i, stop - i);
      i = stop;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      literal += '$';
      i += 2;
      continue;
    }
    if (i + 1 < text.size() && is_name_start(text[i + 1])) {
      std::size_t end = i + 1;
      while (end < text.size() && is_name_char(text[end])) {
        ++end;
      }
      flush();
      sink(Token{.type = Token::Type::variable,
                 .use = VariableUse{.name = std::string(text.substr(i + 1, end - i - 1))}});
      i = end;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      auto close = text.find('}', i + 2);
      // Nested references are not supported; "${A:-${B}}" is one malformed reference.
      if (const auto nested = text.find("${", i + 2);
          close != std::string_view::npos && nested < close) {
        const auto outer = text.find('}', close + 1);
        close = outer == std::string_view::npos ? close : outer;
        flush();
        sink(Token{.type = Token::Type::malformed,
                   .text = std::string(text.substr(i, close - i + 1))});
        i = close + 1;
        continue;
      }
      std::size_t name_end = i + 2;
      while (name_end < text.size() && is_name_char(text[name_end])) {
        ++name_end;
      }
      const bool has_name = name_end > i + 2 && is_name_start(text[i + 2]);
      if (close == std::string_view::npos || !has_name) {
        flush();
        sink(Token{.type = Token::Type::malformed,
                   .text = std::string(text.substr(i,
                                                   close == std::string_view::npos
                                                       ? std::min<std::size_t>(text.size() - i, 20)
                                                       : close - i + 1))});
        i = close == std::string_view::npos ? text.size() : close + 1;
        continue;
      }
      VariableUse use{.name = std::string(text.substr(i + 2, name_end - i - 2))};
      const auto rest = text.substr(name_end, close - name_end);
      if (rest.rfind(":-", 0) == 0) {
        use.default_value = std::string(rest.substr(2));
        use.default_when_empty = true;
      } else if (rest.rfind('-', 0) == 0) {
        use.default_value = std::string(rest.substr(1));
      } else if (!rest.empty()) {
        flush();
        sink(Token{.type = Token::Type::malformed,
                   .text = std::string(text.substr(i, close - i + 1))});
        i = close + 1;
        continue;
      }
      flush();
      sink(Token{.type = Token::Type::variable, .use = std::move(use)});
      i = close + 1;
      continue;
    }
    literal += c;
    ++i;
  }
  flush();
}

}  // namespace

VariableLookup process_environment()
{
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

Expansion expand_variables(std::string_view text, const VariableLookup& lookup)
{
  Expansion result;
  tokenize(text, [&](Token token) {
    switch (token.type) {
      case Token::Type::literal:
        result.text += token.text;
        return;
      case Token::Type::malformed:
        result.problems.push_back("malformed variable reference '" + token.text
                                  + "' (expected ${NAME}, ${NAME:-default} or ${NAME-default}; "
                                    "write $$ for a literal $)");
        return;
      case Token::Type::variable:
        break;
    }
    const auto& use = token.use;
    const auto value = lookup ? lookup(use.name) : std::nullopt;
    const bool use_default =
        use.default_value && (!value || (use.default_when_empty && value->empty()));
    if (use_default) {
      result.text += *use.default_value;
    } else if (value) {
      result.text += *value;
    } else {
      result.undefined.push_back(use.name);
    }
  });
  return result;
}

std::vector<VariableUse> find_variables(std::string_view text)
{
  std::vector<VariableUse> uses;
  tokenize(text, [&](Token token) {
    if (token.type == Token::Type::variable) {
      uses.push_back(std::move(token.use));
    }
  });
  return uses;
}

namespace {

struct MeshReference {
  std::size_t begin = 0;  // of "{{"
  std::size_t end = 0;    // after "}}"
  std::string_view name;  // empty when the braces hold something else
};

// Calls `visit` for each `{{...}}` in `text`, in order.
template <class Visit>
void scan_mesh_references(std::string_view text, Visit&& visit)
{
  std::size_t i = 0;
  while ((i = text.find("{{", i)) != std::string_view::npos) {
    const auto close = text.find("}}", i + 2);
    if (close == std::string_view::npos) {
      return;
    }
    auto inner = text.substr(i + 2, close - i - 2);
    while (!inner.empty() && inner.front() == ' ') {
      inner.remove_prefix(1);
    }
    while (!inner.empty() && inner.back() == ' ') {
      inner.remove_suffix(1);
    }
    const bool is_name = !inner.empty() && std::all_of(inner.begin(), inner.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
    });
    visit(
        MeshReference{.begin = i, .end = close + 2, .name = is_name ? inner : std::string_view()});
    i = close + 2;
  }
}

}  // namespace

std::vector<std::string> find_mesh_references(std::string_view text)
{
  std::vector<std::string> names;
  scan_mesh_references(text, [&](const MeshReference& reference) {
    if (!reference.name.empty()) {
      names.emplace_back(reference.name);
    }
  });
  return names;
}

Substitution substitute_mesh_references(
    std::string_view text,
    const std::function<std::optional<std::string>(const std::string&)>& lookup)
{
  Substitution result;
  std::size_t copied = 0;
  scan_mesh_references(text, [&](const MeshReference& reference) {
    if (reference.name.empty()) {
      return;
    }
    const std::string name(reference.name);
    auto value = lookup(name);
    if (!value) {
      if (std::find(result.undefined.begin(), result.undefined.end(), name)
          == result.undefined.end()) {
        result.undefined.push_back(name);
      }
      return;
    }
    result.text.append(text.substr(copied, reference.begin - copied));
    result.text += *value;
    copied = reference.end;
  });
  result.text.append(text.substr(copied));
  return result;
}

}  // namespace sconectl::manifest
