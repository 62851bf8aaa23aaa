// The `comms` command line: serve, migrate, token, send, templates, config, --help, --version.
// Bad arguments or configuration print one line naming the problem and return
// a non-zero exit code (2 for usage, 1 for runtime failures).
#pragma once

namespace comms::app {

int main(int argc, char** argv, char** envp);

}  // namespace comms::app
