#include "sconectl/yaml/convert.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <cstdint>

namespace sconectl::yaml {

namespace {

using Json = nlohmann::ordered_json;

void emit(YAML::Emitter& out, const Json& value)
{
  switch (value.type()) {
    case Json::value_t::object:
      if (value.empty()) {  // "{}" rather than a dangling key
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        break;
      }
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        out << YAML::Key << key << YAML::Value;
        emit(out, item);
      }
      out << YAML::EndMap;
      break;
    case Json::value_t::array:
      if (value.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        break;
      }
      out << YAML::BeginSeq;
      for (const auto& item : value) {
        emit(out, item);
      }
      out << YAML::EndSeq;
      break;
    case Json::value_t::string:
      out << YAML::DoubleQuoted << value.get<std::string>();
      break;
    case Json::value_t::boolean:
      out << value.get<bool>();
      break;
    case Json::value_t::number_unsigned:
      out << value.get<std::uint64_t>();
      break;
    case Json::value_t::number_integer:
      out << value.get<std::int64_t>();
      break;
    case Json::value_t::number_float:
      out << value.get<double>();
      break;
    default:
      out << YAML::Null;
      break;
  }
}

// A key that yaml-cpp certainly writes plain: letters, digits and "_./-", not starting with "-",
// not a spelling of null (which it quotes), and short (it writes a key over 1024 bytes in the
// "? key" form).
bool is_plain_key(std::string_view key)
{
  if (key.empty() || key.size() > 1024 || key.front() == '-') {
    return false;
  }
  for (const char c : key) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                         || c == '_' || c == '.' || c == '/' || c == '-';
    if (!allowed) {
      return false;
    }
  }
  return !(key.size() == 4 && (key[0] | 0x20) == 'n' && (key[1] | 0x20) == 'u'
           && (key[2] | 0x20) == 'l' && (key[3] | 0x20) == 'l');
}

bool is_ascii(std::string_view text)
{
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return false;
    }
  }
  return true;
}

// Whether the direct writer below covers the whole document: yaml-cpp's choices for other keys,
// for UTF-8 (and invalid UTF-8) and for floating-point numbers are left to yaml-cpp.
bool writes_directly(const Json& value)
{
  switch (value.type()) {
    case Json::value_t::object:
      for (const auto& [key, item] : value.items()) {
        if (!is_plain_key(key) || !writes_directly(item)) {
          return false;
        }
      }
      return true;
    case Json::value_t::array:
      for (const auto& item : value) {
        if (!writes_directly(item)) {
          return false;
        }
      }
      return true;
    case Json::value_t::string:
      return is_ascii(value.get_ref<const std::string&>());
    case Json::value_t::number_float:
      return false;
    default:
      return true;
  }
}

// Writes block-style YAML as yaml-cpp's emitter does with indent 2: a nested map or sequence
// starts on the next line, two columns further in; a map that is an item of a sequence starts
// after its "- ", a sequence that is one on the next line; empty ones are "{}" and "[]".
class DirectWriter {
 public:
  explicit DirectWriter(std::string& out) : m_out(out) {}

  void document(const Json& value)
  {
    if (value.is_object() && !value.empty()) {
      map(value, 0, true);
    } else if (value.is_array() && !value.empty()) {
      sequence(value, 0, true);
    } else {
      scalar(value);
    }
  }

 private:
  void new_line(std::size_t indent)
  {
    m_out += '\n';
    m_out.append(indent, ' ');
  }

  void map(const Json& value, std::size_t indent, bool on_this_line)
  {
    for (const auto& [key, item] : value.items()) {
      if (!on_this_line) {
        new_line(indent);
      }
      on_this_line = false;
      m_out += key;
      m_out += ':';
      if (item.is_object() && !item.empty()) {
        map(item, indent + 2, false);
      } else if (item.is_array() && !item.empty()) {
        sequence(item, indent + 2, false);
      } else {
        m_out += ' ';
        scalar(item);
      }
    }
  }

  void sequence(const Json& value, std::size_t indent, bool on_this_line)
  {
    for (const auto& item : value) {
      if (!on_this_line) {
        new_line(indent);
      }
      on_this_line = false;
      m_out += '-';
      if (item.is_object() && !item.empty()) {
        m_out += ' ';
        map(item, indent + 2, true);
      } else if (item.is_array() && !item.empty()) {
        sequence(item, indent + 2, false);
      } else {
        m_out += ' ';
        scalar(item);
      }
    }
  }

  void scalar(const Json& value)
  {
    switch (value.type()) {
      case Json::value_t::object:
        m_out += "{}";
        break;
      case Json::value_t::array:
        m_out += "[]";
        break;
      case Json::value_t::string:
        quoted(value.get_ref<const std::string&>());
        break;
      case Json::value_t::boolean:
        m_out += value.get<bool>() ? "true" : "false";
        break;
      case Json::value_t::number_unsigned:
        m_out += std::to_string(value.get<std::uint64_t>());
        break;
      case Json::value_t::number_integer:
        m_out += std::to_string(value.get<std::int64_t>());
        break;
      default:
        m_out += '~';
        break;
    }
  }

  // yaml-cpp's double-quoted form of an ASCII string.
  void quoted(std::string_view text)
  {
    static constexpr char k_hex[] = "0123456789abcdef";
    m_out += '"';
    for (const char c : text) {
      switch (c) {
        case '"':
          m_out += "\\\"";
          break;
        case '\\':
          m_out += "\\\\";
          break;
        case '\n':
          m_out += "\\n";
          break;
        case '\t':
          m_out += "\\t";
          break;
        case '\r':
          m_out += "\\r";
          break;
        case '\b':
          m_out += "\\b";
          break;
        case '\f':
          m_out += "\\f";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            m_out += "\\x";
            m_out += k_hex[(c >> 4) & 0xf];
            m_out += k_hex[c & 0xf];
          } else {
            m_out += c;
          }
      }
    }
    m_out += '"';
  }

  std::string& m_out;
};

}  // namespace

std::string to_yaml(const nlohmann::ordered_json& document)
{
  if (!writes_directly(document)) {
    return detail::to_yaml_through_yaml_cpp(document);
  }
  std::string out;
  DirectWriter(out).document(document);
  out += '\n';
  return out;
}

namespace detail {

std::string to_yaml_through_yaml_cpp(const nlohmann::ordered_json& document)
{
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetDoublePrecision(17);  // enough digits that every double reads back as itself
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  emit(out, document);
  return std::string(out.c_str()) + "\n";
}

}  // namespace detail

}  // namespace sconectl::yaml
