CMakeFiles/sqlpool.dir/src/backend.c.o: /work/main/src/backend.c \
 /usr/include/stdc-predef.h /work/main/src/backend.h \
 /work/main/include/sqlpool.h \
 /usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h
