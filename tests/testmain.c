/* testmain.c: the body of SQLPOOL_TEST_MAIN, on its own (it needs only cmocka) so that the
 * fixtures of scripts/check-test-list.sh link it without the library. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

int testutil_main(const struct CMUnitTest *tests, size_t count, int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        /* The names CTest registers (tests/testlist.cmake), one a line, in the array's order. */
        for (size_t i = 0; i < count; i++)
            if (printf("%s\n", tests[i].name) < 0) return 1;
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (argc > 1) {
        for (size_t i = 0; i < count; i++)
            if (strcmp(tests[i].name, argv[1]) == 0)
                return _cmocka_run_group_tests(argv[1], &tests[i], 1, NULL, NULL);
        fprintf(stderr, "no test named %s\n", argv[1]);
        return 2;
    }
    return _cmocka_run_group_tests(argv[0], tests, count, NULL, NULL);
}
