#define _GNU_SOURCE
#include "cprocess.h"
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static volatile sig_atomic_t termination_signal = 0;

static void record_signal(int signo) {
    if (termination_signal == 0) termination_signal = signo;
}

void cs_install_termination_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = record_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: waits and reads return EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int cs_termination_signal(void) { return termination_signal; }

int cs_spawn(const char *path, char *const argv[], char *const envp[], int stdin_fd, int stdout_fd, pid_t *pid) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc) return rc;
    rc = posix_spawnattr_init(&attr);
    if (rc) { posix_spawn_file_actions_destroy(&fa); return rc; }
    if (stdin_fd >= 0) rc = posix_spawn_file_actions_adddup2(&fa, stdin_fd, 0);
    else rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!rc && stdout_fd >= 0) rc = posix_spawn_file_actions_adddup2(&fa, stdout_fd, 1);
    if (!rc) rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    if (!rc) rc = posix_spawnattr_setsigdefault(&attr, &all);
    if (!rc) rc = posix_spawnattr_setsigmask(&attr, &none);
    if (!rc) rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    if (!rc) rc = posix_spawn(pid, path, &fa, &attr, argv, envp);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

extern char **environ;
char **cs_environ(void) { return environ; }

int cs_memfd(const char *name) { return memfd_create(name, MFD_CLOEXEC); }

int cs_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int cs_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
