
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/backend.c" "CMakeFiles/sqlpool_static.dir/src/backend.c.o" "gcc" "CMakeFiles/sqlpool_static.dir/src/backend.c.o.d"
  "/work/main/src/backend_sqlite.c" "CMakeFiles/sqlpool_static.dir/src/backend_sqlite.c.o" "gcc" "CMakeFiles/sqlpool_static.dir/src/backend_sqlite.c.o.d"
  "/work/main/src/backoff.c" "CMakeFiles/sqlpool_static.dir/src/backoff.c.o" "gcc" "CMakeFiles/sqlpool_static.dir/src/backoff.c.o.d"
  "/work/main/src/error.c" "CMakeFiles/sqlpool_static.dir/src/error.c.o" "gcc" "CMakeFiles/sqlpool_static.dir/src/error.c.o.d"
  "/work/main/src/log.c" "CMakeFiles/sqlpool_static.dir/src/log.c.o" "gcc" "CMakeFiles/sqlpool_static.dir/src/log.c.o.d"
  "/work/main/src/pool.c" "CMakeFiles/sqlpool_static.dir/src/pool.c.o" "gcc" "CMakeFiles/sqlpool_static.dir/src/pool.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
