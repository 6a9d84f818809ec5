file(REMOVE_RECURSE
  "CMakeFiles/sqlpool.dir/src/backend.c.o"
  "CMakeFiles/sqlpool.dir/src/backend.c.o.d"
  "CMakeFiles/sqlpool.dir/src/backend_sqlite.c.o"
  "CMakeFiles/sqlpool.dir/src/backend_sqlite.c.o.d"
  "CMakeFiles/sqlpool.dir/src/backoff.c.o"
  "CMakeFiles/sqlpool.dir/src/backoff.c.o.d"
  "CMakeFiles/sqlpool.dir/src/error.c.o"
  "CMakeFiles/sqlpool.dir/src/error.c.o.d"
  "CMakeFiles/sqlpool.dir/src/log.c.o"
  "CMakeFiles/sqlpool.dir/src/log.c.o.d"
  "CMakeFiles/sqlpool.dir/src/pool.c.o"
  "CMakeFiles/sqlpool.dir/src/pool.c.o.d"
  "libsqlpool.pdb"
  "libsqlpool.so"
  "libsqlpool.so.0"
  "libsqlpool.so.0.1.0"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/sqlpool.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
