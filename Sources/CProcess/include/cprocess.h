// Processes and signals: async-signal-safe state for signal handlers, a spawn helper whose file actions are
// awkward to express in Swift, and calls glibc declares only under _GNU_SOURCE (memfd_create, pipe2).
#ifndef CPROCESS_H
#define CPROCESS_H
#include <sys/types.h>

/// Installs handlers for SIGTERM, SIGINT and SIGHUP that only record the signal (no SA_RESTART, so blocking
/// calls return EINTR and the caller can roll back). SIGPIPE is ignored so a dying child cannot kill us.
void cs_install_termination_handlers(void);
/// The first termination signal received, or 0.
int cs_termination_signal(void);

/// posix_spawn `path` with argv/envp, stdin and stdout wired to the given fds (-1 = /dev/null for stdin,
/// inherit for stdout), stderr inherited, every other descriptor closed, signal mask and dispositions reset.
/// Returns 0 and sets *pid, or an errno value.
int cs_spawn(const char *path, char *const argv[], char *const envp[], int stdin_fd, int stdout_fd, pid_t *pid);

/// The process environment (glibc's `environ`, which Swift 6 cannot read as a global).
char **cs_environ(void);

/// memfd_create(name, MFD_CLOEXEC): an in-memory file to hand a delegated plugin its stdin without a pipe
/// that could fill up. Returns the fd or -1.
int cs_memfd(const char *name);

/// pidfd_open(pid, 0): lets a wait on a child be polled with a timeout. Returns the fd (close-on-exec) or -1.
int cs_pidfd_open(pid_t pid);

/// pipe2(fds, O_CLOEXEC).
int cs_pipe_cloexec(int fds[2]);

#endif
