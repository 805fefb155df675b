// Subcommands of build/sirs. Each apps/cmd_<name>.cpp registers itself with
// SIRS_COMMAND; apps/sirs.cpp lists and dispatches them. (apps/*.cpp are
// linked as objects, not through libsirs.a, so the registrations are kept.)
#pragma once

#include <string>
#include <vector>

namespace sirs::app {

// argv[0] is the subcommand name; returns the process exit status.
using CommandFn = int (*)(int argc, char** argv);

struct Command {
  std::string name;
  std::string summary;  // one line for `sirs --help`
  CommandFn run;
};

// Registered commands, sorted by name.
std::vector<Command>& commands();

struct CommandRegistration {
  CommandRegistration(const char* name, const char* summary, CommandFn run);
};

}  // namespace sirs::app

#define SIRS_COMMAND(name, summary, fn) \
  static ::sirs::app::CommandRegistration sirs_command_##fn(name, summary, fn)
