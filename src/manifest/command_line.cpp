#include "sconectl/manifest/command_line.hpp"

#include "sconectl/util/fs.hpp"

#include <algorithm>
#include <array>
#include <set>

namespace sconectl::manifest {

namespace stdfs = std::filesystem;

namespace {

bool is_java_source(std::string_view name)
{
  return name.ends_with(".java");
}

bool is_jar(std::string_view name)
{
  return name.ends_with(".jar");
}

// `relative` without "." components and trailing slashes; "" for the manifest's directory itself.
std::string normalised(const std::string& relative)
{
  auto text = stdfs::path(relative).lexically_normal().relative_path().generic_string();
  while (!text.empty() && text.back() == '/') {
    text.pop_back();
  }
  return text == "." ? std::string() : text;
}

std::string image_path(const std::string& pwd, const std::string& relative)
{
  if (relative.empty()) {
    return pwd;
  }
  return (pwd == "/" ? pwd : pwd + "/") + relative;
}

class JavaWalker {
 public:
  JavaWalker(const stdfs::path& base, const std::string& pwd) : m_base(base), m_pwd(pwd) {}

  tl::expected<void, JavaInputError> add(const std::string& relative, const std::string& field)
  {
    if (!fs::stays_inside(m_base, relative)) {
      return tl::unexpected(JavaInputError{
          field, "'" + relative + "' must be a relative path inside " + m_base.string()});
    }
    const auto normal = normalised(relative);
    const auto source = normal.empty() ? m_base : m_base / normal;
    std::error_code ec;
    const auto status = stdfs::status(source, ec);
    if (ec || !stdfs::exists(status)) {
      return tl::unexpected(
          JavaInputError{field, "'" + relative + "' does not exist in " + m_base.string()});
    }
    if (stdfs::is_regular_file(status)) {
      const auto name = stdfs::path(normal).filename().string();
      if (!is_java_source(name) && !is_jar(name)) {
        return tl::unexpected(JavaInputError{field, *java_copy_problem(m_base, relative)});
      }
      return add_file(normal, field);
    }
    if (!stdfs::is_directory(status)) {
      return tl::unexpected(
          JavaInputError{field, "'" + relative + "' is neither a file nor a directory"});
    }
    return add_directory(normal, field);
  }

  JavaInputs take()
  {
    std::sort(m_inputs.sources.begin(), m_inputs.sources.end());
    return std::move(m_inputs);
  }

 private:
  tl::expected<void, JavaInputError> add_file(const std::string& normal, const std::string& field)
  {
    const auto name = stdfs::path(normal).filename().string();
    const auto path = image_path(m_pwd, normal);
    if (!m_seen.insert(path).second) {
      return {};
    }
    if (is_java_source(name)) {
      m_inputs.sources.push_back(path);
    } else if (is_jar(name)) {
      if (path.find(':') != std::string::npos) {
        return tl::unexpected(JavaInputError{
            field, "'" + normal + "' cannot go on the class path: its name contains ':'"});
      }
      m_inputs.jars.push_back(path);
    }
    return {};
  }

  // Files in copied directories that are neither sources nor jars are copied as they are.
  tl::expected<void, JavaInputError> add_directory(const std::string& normal,
                                                   const std::string& field)
  {
    const auto source = normal.empty() ? m_base : m_base / normal;
    std::error_code ec;
    const auto canonical = stdfs::canonical(source, ec);
    if (!m_visited.insert(canonical.string()).second) {
      return {};  // the build context reports a loop; here it only must not recurse forever
    }
    std::vector<std::string> children;
    for (const auto& entry : stdfs::directory_iterator(source, ec)) {
      children.push_back(entry.path().filename().string());
    }
    std::sort(children.begin(), children.end());
    for (const auto& child : children) {
      const auto child_relative = normal.empty() ? child : normal + "/" + child;
      if (!fs::stays_inside(m_base, child_relative)) {
        return tl::unexpected(JavaInputError{
            field, "'" + child_relative + "' must be a relative path inside " + m_base.string()});
      }
      const auto status = stdfs::status(m_base / child_relative, ec);
      if (stdfs::is_directory(status)) {
        if (auto ok = add_directory(child_relative, field); !ok) {
          return ok;
        }
      } else if (stdfs::is_regular_file(status)) {
        if (auto ok = add_file(child_relative, field); !ok) {
          return ok;
        }
      }
    }
    return {};
  }

  const stdfs::path& m_base;
  const std::string& m_pwd;
  JavaInputs m_inputs;
  std::set<std::string> m_seen;
  std::set<std::string> m_visited;
};

// Options of the `java` launcher that take the next word as their value.
bool takes_value(std::string_view option)
{
  static constexpr std::array<std::string_view, 12> k_options{"-p",
                                                              "--module-path",
                                                              "--upgrade-module-path",
                                                              "--add-modules",
                                                              "--enable-native-access",
                                                              "--add-reads",
                                                              "--add-exports",
                                                              "--add-opens",
                                                              "--limit-modules",
                                                              "--patch-module",
                                                              "--source",
                                                              "--describe-module"};
  return std::find(k_options.begin(), k_options.end(), option) != k_options.end();
}

// True when the launcher options (up to the main class or module) already choose the class path.
bool chooses_class_path(const std::vector<std::string>& words)
{
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string_view word = words[i];
    if (word == "-cp" || word == "-classpath" || word == "--class-path" || word == "-jar"
        || word.rfind("--class-path=", 0) == 0) {
      return true;
    }
    if (word.empty() || word.front() != '-' || word == "-m" || word == "--module"
        || word.rfind("--module=", 0) == 0) {
      return false;  // the main class (or module): what follows belongs to the program
    }
    if (takes_value(word)) {
      ++i;
    }
  }
  return false;
}

}  // namespace

std::optional<std::vector<std::string>> split_command(std::string_view text)
{
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) {
        words.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
      ++i;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      const auto close = text.find('\'', i + 1);
      if (close == std::string_view::npos) {
        return std::nullopt;
      }
      word.append(text.substr(i + 1, close - i - 1));
      i = close + 1;
    } else if (c == '"') {
      ++i;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) {
          ++i;
        }
        word += text[i++];
      }
      if (i >= text.size()) {
        return std::nullopt;
      }
      ++i;
    } else if (c == '\\') {
      if (i + 1 >= text.size()) {
        return std::nullopt;
      }
      word += text[i + 1];
      i += 2;
    } else {
      word += c;
      ++i;
    }
  }
  if (in_word) {
    words.push_back(std::move(word));
  }
  return words;
}

std::optional<std::string> java_copy_problem(const stdfs::path& base_dir,
                                             const std::string& relative)
{
  const auto normal = normalised(relative);
  const auto name = stdfs::path(normal).filename().string();
  if (is_java_source(name) || is_jar(name)) {
    return std::nullopt;
  }
  std::error_code ec;
  const auto status = stdfs::status(normal.empty() ? base_dir : base_dir / normal, ec);
  if (ec || !stdfs::exists(status) || stdfs::is_directory(status)) {
    return std::nullopt;
  }
  return "'" + relative
         + "' is neither a .java source, a .jar archive nor a directory; Java kinds copy only "
           "those (put other files the program needs into a copied directory)";
}

tl::expected<JavaInputs, JavaInputError> java_inputs(const ServiceManifest& service,
                                                     const std::string& pwd)
{
  JavaWalker walker(service.base_dir, pwd);
  for (std::size_t i = 0; i < service.build.copy.size(); ++i) {
    if (auto ok = walker.add(service.build.copy[i], "build.copy[" + std::to_string(i) + "]"); !ok) {
      return tl::unexpected(std::move(ok.error()));
    }
  }
  return walker.take();
}

std::string java_class_path(const std::string& pwd, const std::vector<std::string>& jars)
{
  auto class_path = pwd;
  for (const auto& jar : jars) {
    class_path += ":" + jar;
  }
  return class_path;
}

std::vector<std::string> with_java_class_path(std::vector<std::string> words,
                                              const std::string& class_path)
{
  if (words.empty()) {
    return words;
  }
  const std::string_view program = words.front();
  if ((program != "java" && !program.ends_with("/java")) || chooses_class_path(words)) {
    return words;
  }
  words.insert(words.begin() + 1, {"-cp", class_path});
  return words;
}

std::vector<std::string> launch_command(const ServiceManifest& service)
{
  auto words = split_command(service.build.command).value_or(std::vector<std::string>{});
  if (!is_java(service.build.kind) || words.empty()) {
    return words;
  }
  const auto pwd = service.build.pwd.value_or(k_default_pwd);
  const auto inputs = java_inputs(service, pwd);
  if (!inputs) {
    return words;
  }
  return with_java_class_path(std::move(words), java_class_path(pwd, inputs->jars));
}

}  // namespace sconectl::manifest
