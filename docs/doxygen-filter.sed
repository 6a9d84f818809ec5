# Doxygen's INPUT_FILTER for include/sqlpool.h (see docs/Doxyfile): the header's contract is
# written in plain C comments, which Doxygen skips, so this turns them into Doxygen ones on
# the fly, without touching the header. Idempotent: /** and /**< comments pass unchanged.
#   the file's opening comment          /*           ->  /** @file
#   a comment on lines of its own       /* text      ->  /** text     (documents what follows)
#   a comment after code on its line    x; /* text   ->  x; /**< text (documents x)
1s|^/\*$|/** @file|
s|^\([[:space:]]*\)/\*\([^*]\)|\1/**\2|
s|^\([[:space:]]*\)/\*$|\1/**|
s|\([^[:space:]/].*\)/\* |\1/**< |
