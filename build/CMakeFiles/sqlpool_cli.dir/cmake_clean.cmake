file(REMOVE_RECURSE
  "CMakeFiles/sqlpool_cli.dir/cli/commands.c.o"
  "CMakeFiles/sqlpool_cli.dir/cli/commands.c.o.d"
  "CMakeFiles/sqlpool_cli.dir/cli/health.c.o"
  "CMakeFiles/sqlpool_cli.dir/cli/health.c.o.d"
  "CMakeFiles/sqlpool_cli.dir/cli/labels.c.o"
  "CMakeFiles/sqlpool_cli.dir/cli/labels.c.o.d"
  "CMakeFiles/sqlpool_cli.dir/cli/logger.c.o"
  "CMakeFiles/sqlpool_cli.dir/cli/logger.c.o.d"
  "CMakeFiles/sqlpool_cli.dir/cli/main.c.o"
  "CMakeFiles/sqlpool_cli.dir/cli/main.c.o.d"
  "CMakeFiles/sqlpool_cli.dir/cli/options.c.o"
  "CMakeFiles/sqlpool_cli.dir/cli/options.c.o.d"
  "CMakeFiles/sqlpool_cli.dir/cli/run.c.o"
  "CMakeFiles/sqlpool_cli.dir/cli/run.c.o.d"
  "CMakeFiles/sqlpool_cli.dir/cli/summary.c.o"
  "CMakeFiles/sqlpool_cli.dir/cli/summary.c.o.d"
  "sqlpool"
  "sqlpool.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/sqlpool_cli.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
