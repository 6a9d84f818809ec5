
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/cli/commands.c" "CMakeFiles/sqlpool_cli.dir/cli/commands.c.o" "gcc" "CMakeFiles/sqlpool_cli.dir/cli/commands.c.o.d"
  "/work/main/cli/health.c" "CMakeFiles/sqlpool_cli.dir/cli/health.c.o" "gcc" "CMakeFiles/sqlpool_cli.dir/cli/health.c.o.d"
  "/work/main/cli/labels.c" "CMakeFiles/sqlpool_cli.dir/cli/labels.c.o" "gcc" "CMakeFiles/sqlpool_cli.dir/cli/labels.c.o.d"
  "/work/main/cli/logger.c" "CMakeFiles/sqlpool_cli.dir/cli/logger.c.o" "gcc" "CMakeFiles/sqlpool_cli.dir/cli/logger.c.o.d"
  "/work/main/cli/main.c" "CMakeFiles/sqlpool_cli.dir/cli/main.c.o" "gcc" "CMakeFiles/sqlpool_cli.dir/cli/main.c.o.d"
  "/work/main/cli/options.c" "CMakeFiles/sqlpool_cli.dir/cli/options.c.o" "gcc" "CMakeFiles/sqlpool_cli.dir/cli/options.c.o.d"
  "/work/main/cli/run.c" "CMakeFiles/sqlpool_cli.dir/cli/run.c.o" "gcc" "CMakeFiles/sqlpool_cli.dir/cli/run.c.o.d"
  "/work/main/cli/summary.c" "CMakeFiles/sqlpool_cli.dir/cli/summary.c.o" "gcc" "CMakeFiles/sqlpool_cli.dir/cli/summary.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/CMakeFiles/sqlpool_static.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
