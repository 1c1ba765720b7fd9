#pragma once

// Private to the yaml module: libyaml's event parser over a text, freed on destruction.

#include <string_view>

#include <yaml.h>

namespace sconectl::yaml {

class LibyamlParser {
 public:
  explicit LibyamlParser(std::string_view text)
  {
    yaml_parser_initialize(&m_parser);
    yaml_parser_set_input_string(
        &m_parser, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  }
  LibyamlParser(const LibyamlParser&) = delete;
  LibyamlParser& operator=(const LibyamlParser&) = delete;
  ~LibyamlParser() { yaml_parser_delete(&m_parser); }
  yaml_parser_t* get() { return &m_parser; }

 private:
  yaml_parser_t m_parser{};
};

// One parsed event, deleted on destruction.
class LibyamlEvent {
 public:
  LibyamlEvent() = default;
  LibyamlEvent(const LibyamlEvent&) = delete;
  LibyamlEvent& operator=(const LibyamlEvent&) = delete;
  ~LibyamlEvent()
  {
    if (m_parsed) {
      yaml_event_delete(&m_event);
    }
  }
  // False on a syntax error.
  bool next(LibyamlParser& parser)
  {
    if (m_parsed) {
      yaml_event_delete(&m_event);
    }
    m_parsed = yaml_parser_parse(parser.get(), &m_event) != 0;
    return m_parsed;
  }
  const yaml_event_t& operator*() const { return m_event; }
  const yaml_event_t* operator->() const { return &m_event; }

 private:
  yaml_event_t m_event{};
  bool m_parsed = false;
};

}  // namespace sconectl::yaml
