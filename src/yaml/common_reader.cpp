#include "libyaml_parser.hpp"
#include "sconectl/yaml/tree.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace sconectl::yaml {

namespace {

using Json = nlohmann::ordered_json;

// yaml-cpp reads these plain scalars, and an empty one, as a null node.
bool is_null_spelling(std::string_view text)
{
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

// A mapping or sequence being read, with the key its next value goes to.
struct Frame {
  Json value;
  std::string key;
  bool has_key = false;
};

class CommonReader {
 public:
  explicit CommonReader(std::string_view text) : m_text(text) {}

  // False when the event is outside the common kind, or a document is already complete.
  bool take(const yaml_event_t& event)
  {
    switch (event.type) {
      case YAML_STREAM_START_EVENT:
      case YAML_DOCUMENT_END_EVENT:
        return true;
      case YAML_DOCUMENT_START_EVENT:
        if (m_started_document || event.data.document_start.version_directive != nullptr
            || event.data.document_start.tag_directives.start
                   != event.data.document_start.tag_directives.end) {
          return false;  // a second document, or directives
        }
        m_started_document = true;
        return true;
      case YAML_MAPPING_START_EVENT:
        return event.data.mapping_start.anchor == nullptr && event.data.mapping_start.tag == nullptr
               && open(Json::object());
      case YAML_SEQUENCE_START_EVENT:
        return event.data.sequence_start.anchor == nullptr
               && event.data.sequence_start.tag == nullptr && open(Json::array());
      case YAML_MAPPING_END_EVENT:
      case YAML_SEQUENCE_END_EVENT:
        return close();
      case YAML_SCALAR_EVENT:
        return scalar(event);
      case YAML_STREAM_END_EVENT:
        m_ended = true;
        return m_root.has_value();
      default:  // aliases
        return false;
    }
  }

  [[nodiscard]] bool ended() const { return m_ended; }
  std::optional<Json> take_root() { return std::move(m_root); }

 private:
  bool count_value()
  {
    if (m_values == k_max_values) {
      return false;
    }
    ++m_values;
    return true;
  }

  bool open(Json container)
  {
    if (m_root || !count_value() || m_stack.size() >= static_cast<std::size_t>(k_max_depth)) {
      return false;
    }
    if (m_stack.empty() ? !container.is_object()
                        : m_stack.back().value.is_object() && !m_stack.back().has_key) {
      return false;  // a list or scalar at the top, or a mapping or list as a key
    }
    m_stack.push_back(Frame{std::move(container), {}, false});
    return true;
  }

  bool close()
  {
    if (m_stack.empty() || m_stack.back().has_key) {
      return false;
    }
    Json value = std::move(m_stack.back().value);
    m_stack.pop_back();
    if (m_stack.empty()) {
      m_root = std::move(value);
      return true;
    }
    return add(std::move(value));
  }

  bool add(Json value)
  {
    auto& frame = m_stack.back();
    if (frame.value.is_array()) {
      frame.value.push_back(std::move(value));
    } else {
      frame.value.emplace(std::move(frame.key), std::move(value));
      frame.has_key = false;
    }
    return true;
  }

  bool scalar(const yaml_event_t& event)
  {
    const auto& scalar = event.data.scalar;
    // Block scalars and scalars over several lines are left to yaml-cpp, whose folding rules
    // this reader does not repeat.
    const bool plain = scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (scalar.anchor != nullptr || scalar.tag != nullptr || m_stack.empty()
        || (!plain && scalar.style != YAML_SINGLE_QUOTED_SCALAR_STYLE
            && scalar.style != YAML_DOUBLE_QUOTED_SCALAR_STYLE)
        || event.start_mark.line != event.end_mark.line || !count_value()) {
      return false;
    }
    if (scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE && has_odd_escape(event)) {
      return false;
    }
    std::string text(reinterpret_cast<const char*>(scalar.value), scalar.length);
    auto& frame = m_stack.back();
    if (frame.value.is_object() && !frame.has_key) {
      if ((plain && is_null_spelling(text)) || frame.value.contains(text)) {
        return false;  // a null key, or a duplicate one: yaml-cpp's reading words the error
      }
      frame.key = std::move(text);
      frame.has_key = true;
      return true;
    }
    if (!plain) {
      return add(Json(std::move(text)));
    }
    return add(is_null_spelling(text) ? Json(nullptr) : typed_plain_scalar(std::move(text)));
  }

  // yaml-cpp reads the escapes \\N and \\_ as the bytes 0x85 and 0xa0, not as the characters
  // U+0085 and U+00A0 in UTF-8; such a scalar is left to it.
  bool has_odd_escape(const yaml_event_t& event) const
  {
    const auto source =
        m_text.substr(event.start_mark.index, event.end_mark.index - event.start_mark.index);
    for (std::size_t at = source.find('\\'); at != std::string_view::npos && at + 1 < source.size();
         at = source.find('\\', at + 2)) {
      if (source[at + 1] == 'N' || source[at + 1] == '_') {
        return true;
      }
    }
    return false;
  }

  std::string_view m_text;
  std::vector<Frame> m_stack;
  std::optional<Json> m_root;
  std::size_t m_values = 0;
  bool m_started_document = false;
  bool m_ended = false;
};

}  // namespace

std::optional<nlohmann::ordered_json> read_common_yaml(std::string_view text)
{
  LibyamlParser parser(text);
  LibyamlEvent event;
  CommonReader reader(text);
  while (!reader.ended()) {
    if (!event.next(parser) || !reader.take(*event)) {
      return std::nullopt;
    }
  }
  return reader.take_root();
}

}  // namespace sconectl::yaml
