// `sconectl completion bash|zsh`: shell completion scripts written from the command tree itself,
// so they offer exactly the commands and options that --help shows. Hidden from --help: the
// build runs it to install the scripts (src/CMakeLists.txt).

#include "command.hpp"
#include "sconectl/util/strings.hpp"

#include <memory>
#include <sstream>
#include <vector>

namespace sconectl::cli {

namespace {

struct OptionInfo {
  std::vector<std::string> names;  // -f, --filename
  std::string description;
  bool takes_value = false;
  std::vector<std::string> choices;  // from "{a,b}=default"; empty: any value (a file, say)
};

struct CommandInfo {
  std::string path;  // "" for sconectl, "cas serve" for `sconectl cas serve`
  std::vector<std::pair<std::string, std::string>> subcommands;  // name, description
  std::vector<OptionInfo> options;
};

std::string first_line(const std::string& text)
{
  return text.substr(0, text.find('\n'));
}

// The choices shown in --help: "{a,b}=default" (cli::choices) or "TEXT:{a,b}" (CLI::IsMember).
std::vector<std::string> choices_of(const std::string& shown)
{
  std::vector<std::string> result;
  const auto begin = shown.find('{');
  const auto end = shown.find('}', begin);
  if (begin == std::string::npos || end == std::string::npos) {
    return result;
  }
  std::stringstream names(shown.substr(begin + 1, end - begin - 1));
  for (std::string name; std::getline(names, name, ',');) {
    result.push_back(name);
  }
  return result;
}

bool visible(const CLI::App* command)
{
  return !command->get_group().empty();
}

void collect(CLI::App& command, const std::string& path, std::vector<CommandInfo>& out)
{
  CommandInfo info{.path = path, .subcommands = {}, .options = {}};
  const auto children = command.get_subcommands([](CLI::App* child) { return visible(child); });
  for (const auto* child : children) {
    info.subcommands.emplace_back(child->get_name(), first_line(child->get_description()));
  }
  for (const auto* option : command.get_options()) {
    if (!option->nonpositional()) {  // a positional argument: completed as a file
      continue;
    }
    OptionInfo entry;
    for (const auto& name : option->get_snames()) {
      entry.names.push_back("-" + name);
    }
    for (const auto& name : option->get_lnames()) {
      entry.names.push_back("--" + name);
    }
    entry.description = first_line(option->get_description());
    entry.takes_value = option->get_items_expected_max() > 0;
    entry.choices = choices_of(option->get_option_text().empty() ? option->get_type_name()
                                                                 : option->get_option_text());
    info.options.push_back(std::move(entry));
  }
  out.push_back(std::move(info));
  for (auto* child : children) {
    collect(*child, path.empty() ? child->get_name() : path + " " + child->get_name(), out);
  }
}

std::string single_quoted(const std::string& text)
{
  std::string out = "'";
  for (const char c : text) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

// The case statements shared by both shells: subcommand names, option names, and for an option
// that takes a value either its choices or "@files".
void shared_functions(std::ostream& out, const std::vector<CommandInfo>& commands)
{
  out << "_sconectl_commands() {\n  case \"$1\" in\n";
  for (const auto& command : commands) {
    std::vector<std::string> names;
    for (const auto& [name, description] : command.subcommands) {
      names.push_back(name);
    }
    if (!names.empty()) {
      out << "    " << single_quoted(command.path) << ") echo "
          << single_quoted(strings::join(names, " ")) << " ;;\n";
    }
  }
  out << "  esac\n}\n";
  out << "_sconectl_options() {\n  case \"$1\" in\n";
  for (const auto& command : commands) {
    std::vector<std::string> names;
    for (const auto& option : command.options) {
      names.insert(names.end(), option.names.begin(), option.names.end());
    }
    out << "    " << single_quoted(command.path) << ") echo "
        << single_quoted(strings::join(names, " ")) << " ;;\n";
  }
  out << "  esac\n}\n";
  out << "_sconectl_value() {\n  case \"$1|$2\" in\n";
  for (const auto& command : commands) {
    for (const auto& option : command.options) {
      if (!option.takes_value) {
        continue;
      }
      std::string patterns;
      for (const auto& name : option.names) {
        patterns += (patterns.empty() ? "" : "|") + single_quoted(command.path + "|" + name);
      }
      out << "    " << patterns << ") echo "
          << single_quoted(option.choices.empty() ? "@files" : strings::join(option.choices, " "))
          << " ;;\n";
    }
  }
  out << "  esac\n}\n";
}

void bash_script(std::ostream& out, const std::vector<CommandInfo>& commands)
{
  out << "# bash completion for sconectl; written by `sconectl completion bash` from its command\n"
         "# tree. Install as /usr/share/bash-completion/completions/sconectl.\n";
  shared_functions(out, commands);
  out << R"SH(_sconectl() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} path='' word i value
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    case " $(_sconectl_commands "$path") " in
      *" $word "*) path=${path:+$path }$word ;;
    esac
  done
  COMPREPLY=()
  if ((COMP_CWORD > 1)); then
    value=$(_sconectl_value "$path" "$prev")
    if [[ $value == @files ]]; then
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return 0
    elif [[ -n $value ]]; then
      mapfile -t COMPREPLY < <(compgen -W "$value" -- "$cur")
      return 0
    fi
  fi
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_sconectl_options "$path")" -- "$cur")
    return 0
  fi
  value=$(_sconectl_commands "$path")
  if [[ -n $value ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$value" -- "$cur")
  else
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  fi
  return 0
}
complete -F _sconectl sconectl
)SH";
}

std::string zsh_described(const std::string& name, const std::string& description)
{
  std::string escaped;
  for (const char c : name) {
    escaped += c == ':' ? std::string("\\:") : std::string(1, c);
  }
  return single_quoted(escaped + ":" + description);
}

void zsh_script(std::ostream& out, const std::vector<CommandInfo>& commands)
{
  out << "#compdef sconectl\n"
         "# zsh completion for sconectl; written by `sconectl completion zsh` from its command\n"
         "# tree. Install as _sconectl in a directory of $fpath (site-functions).\n";
  shared_functions(out, commands);
  out << "_sconectl_described_commands() {\n  case \"$1\" in\n";
  for (const auto& command : commands) {
    if (command.subcommands.empty()) {
      continue;
    }
    out << "    " << single_quoted(command.path) << ") reply=(";
    for (const auto& [name, description] : command.subcommands) {
      out << " " << zsh_described(name, description);
    }
    out << " ) ;;\n";
  }
  out << "    *) reply=() ;;\n  esac\n}\n";
  out << "_sconectl_described_options() {\n  case \"$1\" in\n";
  for (const auto& command : commands) {
    out << "    " << single_quoted(command.path) << ") reply=(";
    for (const auto& option : command.options) {
      for (const auto& name : option.names) {
        out << " " << zsh_described(name, option.description);
      }
    }
    out << " ) ;;\n";
  }
  out << "    *) reply=() ;;\n  esac\n}\n";
  out << R"SH(_sconectl() {
  local p='' w value i
  local -a reply
  for ((i = 2; i < CURRENT; i++)); do
    w=${words[i]}
    if [[ " $(_sconectl_commands "$p") " == *" $w "* ]]; then p=${p:+$p }$w; fi
  done
  if ((CURRENT > 2)); then
    value=$(_sconectl_value "$p" "${words[CURRENT-1]}")
    if [[ $value == @files ]]; then _files; return; fi
    if [[ -n $value ]]; then reply=(${=value}); compadd -a reply; return; fi
  fi
  if [[ ${words[CURRENT]} == -* ]]; then
    _sconectl_described_options "$p"
    _describe -t options option reply
    return
  fi
  _sconectl_described_commands "$p"
  if ((${#reply})); then _describe -t commands command reply; else _files; fi
}
_sconectl "$@"
)SH";
}

}  // namespace

Action add_completion_command(CLI::App& app, const GlobalOptions& global, Services& services)
{
  (void)global;
  auto* command = app.add_subcommand("completion", "Print a shell completion script (bash or zsh)");
  command->group("");  // hidden: used by the build to install the scripts
  auto shell = std::make_shared<std::string>();
  command->add_option("shell", *shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  return [shell, &app, &services]() -> Result<int> {
    std::vector<CommandInfo> commands;
    collect(app, "", commands);
    if (*shell == "bash") {
      bash_script(services.out, commands);
    } else {
      zsh_script(services.out, commands);
    }
    return exit_code::ok;
  };
}

}  // namespace sconectl::cli
