#include "cas_options.hpp"
#include "command.hpp"

#include <memory>

namespace sconectl::cli {

namespace {

Result<int> run_show_key_hash(const CasOptions& options, Services& services)
{
  auto hash = own_key_hash(options, services);
  if (!hash) {
    return forward_error(std::move(hash.error()));
  }
  services.out << *hash << '\n';
  return exit_code::ok;
}

}  // namespace

Action add_self_command(CLI::App& app, const GlobalOptions& global, Services& services)
{
  (void)global;
  auto* group = app.add_subcommand("self", "This client's identity towards a CAS");
  group->require_subcommand(1);
  auto options = std::make_shared<CasOptions>();
  auto* show = group->add_subcommand(
      "show-key-hash",
      "Print the key hash of this client's certificate (for access_policy), creating the identity "
      "on first use");
  add_cas_options(*show, *options, false);
  return [=, &services]() -> Result<int> { return run_show_key_hash(*options, services); };
}

}  // namespace sconectl::cli
