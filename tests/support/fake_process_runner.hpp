#pragma once

#include "sconectl/util/process.hpp"

#include <functional>
#include <string>
#include <vector>

namespace sconectl::testing {

// Records every command and answers from a script: the first rule whose predicate matches wins.
// Unmatched commands fail loudly, so a test notices any command it did not expect.
class FakeProcessRunner final : public ProcessRunner {
 public:
  using Predicate = std::function<bool(const Command&)>;
  using Answer = std::function<Completed(const Command&)>;

  void on(Predicate predicate, Answer answer)
  {
    m_rules.push_back({std::move(predicate), std::move(answer)});
  }

  // Matches `program args...` when the arguments start with `prefix`.
  static Predicate args_start_with(std::vector<std::string> prefix)
  {
    return [prefix = std::move(prefix)](const Command& command) {
      return command.args.size() >= prefix.size()
             && std::equal(prefix.begin(), prefix.end(), command.args.begin());
    };
  }

  static Answer reply(int exit_code, std::string out, std::string err = "")
  {
    return
        [=](const Command&) { return Completed{.exit_code = exit_code, .out = out, .err = err}; };
  }

  Result<Completed> run(const Command& command) override
  {
    commands.push_back(command);
    for (const auto& rule : m_rules) {
      if (rule.predicate(command)) {
        auto completed = rule.answer(command);
        if (command.on_output && !completed.out.empty()) {
          command.on_output(completed.out);
        }
        return completed;
      }
    }
    return fail(ErrorKind::process, "unexpected command: " + to_display_string(command));
  }

  // The commands whose arguments start with `prefix`.
  [[nodiscard]] std::vector<Command> matching(const std::vector<std::string>& prefix) const
  {
    std::vector<Command> found;
    for (const auto& command : commands) {
      if (args_start_with(prefix)(command)) {
        found.push_back(command);
      }
    }
    return found;
  }

  std::vector<Command> commands;

 private:
  struct Rule {
    Predicate predicate;
    Answer answer;
  };
  std::vector<Rule> m_rules;
};

}  // namespace sconectl::testing
