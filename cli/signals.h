/* signals.h: what a SIGINT, SIGTERM or SIGHUP mid-run cleans up: the output's temporary file
 * and the folders made for it, so a killed run leaves the output path as it found it. */
#ifndef SQLPOOL_CLI_SIGNALS_H
#define SQLPOOL_CLI_SIGNALS_H

/* Install the handlers: each removes what is tracked, then dies of its signal (default
 * action, re-raised). SIGPIPE is ignored (writes fail with EPIPE instead). Returns 0, or -1
 * when sigaction fails. */
int signals_install(void);

/* Track tmp_path (or NULL) and the folders dirs[0..ndirs), outermost first, each a prefix of
 * the next. Paths too long for the static copies are not tracked. */
void signals_track(const char *tmp_path, char *const *dirs, int ndirs);
/* Stop tracking (before the paths are removed or renamed by the program itself). */
void signals_forget(void);

/* Hold the signals off (1) or let them in (0) around a multi-step change to the files. */
void signals_hold(int on);

/* From now on a signal is only recorded (the first one), and the call it interrupts fails
 * with EINTR: what runs after the COMMIT checks signals_caught() and undoes the rows. */
void signals_defer(void);
/* The signal recorded since signals_defer(), or 0. */
int signals_caught(void);
/* Stop deferring; when a signal was recorded, die of it now (the run has cleaned up). */
void signals_resume(void);

#endif
