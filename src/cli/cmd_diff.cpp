#include "apply_options.hpp"
#include "command.hpp"
#include "palette.hpp"
#include "sconectl/apply/plan_mesh.hpp"

#include <map>
#include <memory>

namespace sconectl::cli {

namespace {

struct DiffOptions {
  ApplyOptions apply;
  std::string out_file;
  bool show_values = false;
};

std::string action_line(const apply::SessionPlan& session)
{
  const auto current = session.current_hash.value_or("");
  const auto planned = session.planned_hash.value_or("");
  switch (session.action) {
    case apply::PlanAction::create:
      return "created (new hash " + planned + ")";
    case apply::PlanAction::update:
      return "updated (" + current + " -> " + planned + ")";
    case apply::PlanAction::unchanged:
      return "unchanged (" + current + ")";
    case apply::PlanAction::orphaned:
      return "present in CAS (" + current + "), no longer produced by the manifests";
  }
  return "";
}

void print_plan(const apply::MeshPlan& plan, const Palette& colour, std::ostream& out)
{
  out << "CAS " << plan.cas << "\n";
  std::map<apply::PlanAction, int> counts;
  bool values_hidden = false;
  for (const auto& session : plan.sessions) {
    ++counts[session.action];
    auto line = session.name + ": " + action_line(session);
    switch (session.action) {
      case apply::PlanAction::create:
        line = colour.green(line);
        break;
      case apply::PlanAction::update:
      case apply::PlanAction::orphaned:
        line = colour.yellow(line);
        break;
      case apply::PlanAction::unchanged:
        break;
    }
    out << line << "\n";
    if (session.changed_elsewhere()) {
      out << "  concurrency:\n    "
          << colour.red(
                 "! changed on the CAS since the last apply from this target directory: "
                 "recorded "
                 + *session.recorded_hash + ", the CAS has " + *session.current_hash)
          << "\n";
    }
    std::optional<diff::Area> area;
    for (const auto& change : session.changes) {
      values_hidden = values_hidden || change.values_hidden;
      if (change.area != area) {
        area = change.area;
        out << "  " << colour.bold(std::string(diff::to_string(change.area))) << ":\n";
      }
      const auto risky = change.weakens || change.destructive;
      const auto text =
          std::string(risky ? "! " : "~ ") + change.message + " [" + change.kind + "]";
      out << "    " << (risky ? colour.red(text) : text) << "\n";
    }
  }
  out << counts[apply::PlanAction::create] << " to create, " << counts[apply::PlanAction::update]
      << " to update, " << counts[apply::PlanAction::unchanged] << " unchanged, "
      << counts[apply::PlanAction::orphaned] << " no longer produced\n";
  if (values_hidden) {
    out << "(environment values and file contents are not shown: they are confidential to their "
           "service; --show-values prints them)\n";
  }
}

Result<int> run_diff(const DiffOptions& options, const GlobalOptions& global, Services& services)
{
  auto mesh =
      load_mesh_manifest(options.apply, services, "diff compares a mesh's policies with its CAS");
  if (!mesh) {
    return forward_error(std::move(mesh.error()));
  }
  if (manifest::cas_for_role(*mesh, "cas") == nullptr) {
    return fail(ErrorKind::usage,
                options.apply.file + ": the mesh names no CAS (cas:) to compare its policies with");
  }
  // Refuses the signing and encrypting modes, as apply does; a NoUpload mesh is still compared.
  TRY(apply::wants_upload(*mesh, false));
  auto generated = generate_for_cas(*mesh, options.apply, "comparing with the CAS", services);
  if (!generated) {
    return forward_error(std::move(generated.error()));
  }
  auto plan = plan_upload(*generated,
                          options.apply.target_directory,
                          diff::CompareOptions{.show_values = options.show_values});
  if (!plan) {
    return forward_error(std::move(plan.error()));
  }
  if (!options.out_file.empty()) {
    TRY(apply::save_reviewed_plan(options.out_file, apply::reviewed(*plan)));
  }
  if (global.format == OutputFormat::json) {
    services.out << apply::to_json(*plan).dump(2) << '\n';
  } else if (!global.quiet) {
    print_plan(*plan, palette_for(services.out, services.variables), services.out);
  }
  return plan->has_changes() ? exit_code::changes : exit_code::ok;
}

}  // namespace

Action add_diff_command(CLI::App& app, const GlobalOptions& global, Services& services)
{
  auto options = std::make_shared<DiffOptions>();
  auto& apply = options->apply;
  auto* command = app.add_subcommand(
      "diff",
      "Show what `apply -f mesh.yaml` would change on the CAS, grouped by risk, uploading "
      "nothing. Exit code 0: no change, 3: changes, 1 or 2: error (docs/diff.md)");
  add_mesh_file_options(
      *command, apply, "Enclave mode recorded in the policy", "Helm release name");
  command->add_flag(
      "-n,--no-pull", apply.no_registry, "Use local images without pulling (as apply does)");
  command->add_flag("--strict", apply.strict, "Treat warnings (e.g. unknown fields) as errors");
  choices(
      command->add_option(
          "--measure", apply.measurer, "How services are measured (as apply: content or scone)"),
      std::map<std::string, image::Measurer>{{"content", image::Measurer::content},
                                             {"scone", image::Measurer::scone}},
      "content");
  add_cas_options(*command, apply.cas, false);
  command->add_flag("--show-values",
                    options->show_values,
                    "Show the environment values and injection file contents that change (they "
                    "are confidential to their service: keep them out of CI logs)");
  command->add_option("--out",
                      options->out_file,
                      "Write the plan (each session's expected current hash and the hash to be "
                      "uploaded, mode 0600) for `apply --plan`");
  return [options, &global, &services]() -> Result<int> {
    return run_diff(*options, global, services);
  };
}

}  // namespace sconectl::cli
