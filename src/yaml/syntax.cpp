#include "libyaml_parser.hpp"
#include "sconectl/yaml/tree.hpp"

#include <yaml.h>

namespace sconectl::yaml {

namespace {

TextPosition one_based(const yaml_mark_t& mark)
{
  return {static_cast<int>(mark.line) + 1, static_cast<int>(mark.column) + 1};
}

// Reader errors (bad bytes) carry only an offset; scanner errors inside a construct point best at
// where the construct started ("while scanning a quoted scalar" -> the opening quote).
TextPosition position_of_problem(const yaml_parser_t& parser, std::string_view text)
{
  if (parser.error == YAML_READER_ERROR) {
    TextPosition at{1, 1};
    for (std::size_t i = 0; i < parser.problem_offset && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++at.line;
        at.column = 1;
      } else {
        ++at.column;
      }
    }
    return at;
  }
  return one_based(parser.context != nullptr ? parser.context_mark : parser.problem_mark);
}

std::string describe(const yaml_parser_t& parser)
{
  std::string message = "invalid YAML: ";
  message += parser.problem != nullptr ? parser.problem : "syntax error";
  if (parser.context != nullptr) {
    message += std::string(" ") + parser.context;
  }
  if (message.find("mapping values are not allowed") != std::string::npos) {
    message += " (check the indentation, or quote a value that contains ': ')";
  } else if (message.find("cannot start any token") != std::string::npos) {
    message += " (tabs cannot indent YAML; quote values starting with @ or `)";
  }
  return message;
}

}  // namespace

std::optional<SyntaxProblem> check_syntax(std::string_view text)
{
  LibyamlParser parser(text);
  int depth = 0;
  int documents = 0;
  while (true) {
    yaml_event_t event;
    if (yaml_parser_parse(parser.get(), &event) == 0) {
      return SyntaxProblem{position_of_problem(*parser.get(), text), describe(*parser.get())};
    }
    const auto type = event.type;
    const auto at = one_based(event.start_mark);
    yaml_event_delete(&event);
    if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
      if (++depth > k_max_depth) {
        return SyntaxProblem{
            at, "invalid YAML: nested deeper than " + std::to_string(k_max_depth) + " levels"};
      }
    } else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
      --depth;
    } else if (type == YAML_DOCUMENT_START_EVENT && ++documents > 1) {
      // A reader would take the first document and silently drop the rest.
      return SyntaxProblem{at,
                           "more than one YAML document: a second one starts here (after ---); "
                           "a file holds exactly one"};
    } else if (type == YAML_STREAM_END_EVENT) {
      return std::nullopt;
    }
  }
}

}  // namespace sconectl::yaml
