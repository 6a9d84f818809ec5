/* paths.h: whether two paths name the same file, existing or not. */
#ifndef SQLPOOL_CLI_PATHS_H
#define SQLPOOL_CLI_PATHS_H

/* 1 when a and b name the same file: the same device and inode when both exist; otherwise
 * the same real parent folder and the same base name. 0 otherwise. */
int paths_same_file(const char *a, const char *b);

#endif
