/* SPDX-License-Identifier: MIT */
#ifndef SQ_TEST_DELIVERY_SUPPORT_H
#define SQ_TEST_DELIVERY_SUPPORT_H

#include <stddef.h>

/* t_mkhome - a fresh qmail home (mkhome.sh) in a mkdtemp directory; its path */
const char *t_mkhome(void);
/* t_tmpdir - mkdtemp(templ), removed with everything in it when the test exits */
void t_tmpdir(char *templ);
/* t_cleanup - remove the t_tmpdir directories (use as .fini) */
void t_cleanup(void);
/* t_prog - "$SQ_BUILDDIR/NAME" */
const char *t_prog(const char *name);
/* t_write - create path with text (mode) */
void t_write(const char *path, const char *text, int mode);
/* t_read - whole file into a malloc'd string ("" if missing) */
char *t_read(const char *path);
/* t_run - run argv with stdin from in_path (NULL: /dev/null), QMAILHOME=home;
 * stdout+stderr into out; returns the exit code, or 128+signal */
int t_run(const char *const *argv, const char *in_path, const char *home,
    char *out, size_t outsize);
/* t_count - number of entries in a directory (without . and ..) */
int t_count(const char *dir);
/* t_first - the first entry's full path in dir (static buffer) or NULL */
const char *t_first(const char *dir);

#endif
