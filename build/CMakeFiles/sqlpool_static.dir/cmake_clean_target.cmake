file(REMOVE_RECURSE
  "libsqlpool.a"
)
