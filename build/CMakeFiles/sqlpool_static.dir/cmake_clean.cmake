file(REMOVE_RECURSE
  "CMakeFiles/sqlpool_static.dir/src/backend.c.o"
  "CMakeFiles/sqlpool_static.dir/src/backend.c.o.d"
  "CMakeFiles/sqlpool_static.dir/src/backend_sqlite.c.o"
  "CMakeFiles/sqlpool_static.dir/src/backend_sqlite.c.o.d"
  "CMakeFiles/sqlpool_static.dir/src/backoff.c.o"
  "CMakeFiles/sqlpool_static.dir/src/backoff.c.o.d"
  "CMakeFiles/sqlpool_static.dir/src/error.c.o"
  "CMakeFiles/sqlpool_static.dir/src/error.c.o.d"
  "CMakeFiles/sqlpool_static.dir/src/log.c.o"
  "CMakeFiles/sqlpool_static.dir/src/log.c.o.d"
  "CMakeFiles/sqlpool_static.dir/src/pool.c.o"
  "CMakeFiles/sqlpool_static.dir/src/pool.c.o.d"
  "libsqlpool.a"
  "libsqlpool.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/sqlpool_static.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
