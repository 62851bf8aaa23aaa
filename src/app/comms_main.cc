#include "app/cli.h"

int main(int argc, char** argv, char** envp) { return comms::app::main(argc, argv, envp); }
