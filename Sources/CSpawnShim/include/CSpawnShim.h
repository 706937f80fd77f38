// Starting a command under a guard process that ends it, and its whole process group,
// when the controller dies (even by SIGKILL).
#ifndef FAILOVERCTL_CSPAWNSHIM_H
#define FAILOVERCTL_CSPAWNSHIM_H

#include <sys/types.h>

/// Starts `path` (absolute or relative to the working directory: no PATH lookup here) with
/// `argv` and exactly `envp` (both NULL-terminated) under a guard process G, and returns 0
/// with G's pid in `*pid`, or an errno value (then nothing is left running or unreaped).
///
/// G leads a new process group (its pid is the group id) and runs the command C in it:
/// stdin from /dev/null, stdout on `out_fd`, stderr on `err_fd`, an empty signal mask,
/// every signal at its default action, no other descriptor of the caller. It returns once
/// C has called execve, so an exec error (ENOENT, EACCES, ENOEXEC) is its answer.
///
/// Guarantees:
/// - When the calling process dies (any way, SIGKILL included), G kills C and then every
///   member of the group with SIGKILL, at once: it waits with poll() on a "lifeline" pipe
///   whose only write end this process holds (created at the first call, close-on-exec,
///   never written) and which hangs up when this process is gone.
/// - G ends exactly as C did: the same exit status, or the same signal (re-raised on
///   itself at its default action, without a core dump), so the caller's waitpid of G
///   reads C's termination.
/// - G ignores the signals a group is sent for its command (TERM, INT, HUP, QUIT, PIPE,
///   USR1, USR2, ALRM, TSTP, TTIN, TTOU): a SIGTERM to the group reaches C, whose trap
///   runs, and G stays to report; only SIGKILL ends G before C.
/// - When C ends normally, G does not touch the rest of the group (a command may leave a
///   background process; the caller's group SIGKILL after a stop still reaches it).
///
/// Thread-safe. The caller must reap G (waitpid) and should call this from a thread that
/// can block briefly: it returns after C's execve.
int fo_guard_spawn(
    const char *path, char *const argv[], char *const envp[], int out_fd, int err_fd, pid_t *pid);

/// `pipe2(fds, O_CLOEXEC)`. Returns 0, or -1 with errno set.
int fo_cloexec_pipe(int fds[2]);

#endif
