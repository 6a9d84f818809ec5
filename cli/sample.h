/* sample.h: the input `sqlpool run` reads when --input is not given. */
#ifndef SQLPOOL_CLI_SAMPLE_H
#define SQLPOOL_CLI_SAMPLE_H

/* local ("data/sample_input.txt", relative to the current folder) when something is there
 * (a file that cannot be read is reported as such, not replaced); else the sample installed
 * with this program, the first that exists of <the program's folder>/SQLPOOL_BIN_TO_DATADIR
 * (only when that folder is <prefix>/SQLPOOL_BINDIR, and the file and each folder up to the
 * prefix are root's or this user's and not writable by anyone) and SQLPOOL_DATADIR
 * (CMAKE_INSTALL_FULL_DATADIR), each + "/sqlpool/sample_input.txt"; else local, for the
 * error. The result is local or a static string. */
const char *sample_input(const char *local);

#endif
