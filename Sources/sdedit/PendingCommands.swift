import ArgumentParser

// Subcommands whose pipelines are not built yet: they refuse to run (exit 1) rather than fake output.
