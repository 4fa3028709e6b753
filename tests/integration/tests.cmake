# Command-line tests of the executables: exit codes and messages.
