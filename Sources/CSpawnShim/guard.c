// The guard process behind fo_guard_spawn (see CSpawnShim.h for what it guarantees).
//
// After fork() in a multithreaded caller the child may only call async-signal-safe
// functions: everything G and C do below is a plain system call on memory prepared by the
// caller before the fork (path resolved, argv and envp built). No malloc, no stdio.
//
// The price of the design: one fork() of the controller per command, so a start costs
// more than posix_spawn (measured in the test process: about 2.3 ms against 0.7 ms idle).
#define _GNU_SOURCE
#include "CSpawnShim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// The guard's descriptors, placed before anything else runs: 0 /dev/null, 1 and 2 the
// output pipes (C inherits 0-2), then these two (close-on-exec, so C never holds them).
enum { LIFELINE_FD = 3, STATUS_FD = 4, FIRST_CLOSED_FD = 5 };

static int lifeline[2] = {-1, -1};
static int lifeline_error = 0;
static pthread_once_t lifeline_once = PTHREAD_ONCE_INIT;

// One pipe for the process's whole life. Its write end is never written nor closed: the
// kernel closes it when this process dies, and every guard's poll() then sees POLLHUP.
static void open_lifeline(void) {
    if (pipe2(lifeline, O_CLOEXEC) != 0) lifeline_error = errno;
}

// Signals the guard ignores (why: CSpawnShim.h); C gets them back at their default.
static const int ignored_signals[] = {
    SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU,
};
enum { IGNORED_COUNT = sizeof ignored_signals / sizeof ignored_signals[0] };

static void set_action(int sig, void (*handler)(int)) {
    struct sigaction action = {0};
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    sigaction(sig, &action, NULL);
}

// Back to the default action, also for the signals glibc keeps to itself (32 and 33, whose
// sigaction() is refused): an ignored one would stay ignored in the command. An all-zero
// kernel sigaction is SIG_DFL, no flags, an empty mask, whatever the architecture's layout.
static void reset_action(int sig) {
    struct sigaction action = {0};
    action.sa_handler = SIG_DFL;
    if (sigaction(sig, &action, NULL) == 0 || errno != EINVAL) return;
    unsigned long zero[8] = {0};
    syscall(SYS_rt_sigaction, sig, zero, NULL, _NSIG / 8);
}

// SIGCHLD only has to interrupt ppoll() (a SIG_DFL SIGCHLD is discarded and would not).
static void on_child(int sig) { (void)sig; }

static void block_all(void) {
    sigset_t set;
    sigfillset(&set);
    sigprocmask(SIG_SETMASK, &set, NULL);
}

// `how` (SIG_SETMASK, SIG_UNBLOCK) with the set holding only `sig`, or no signal for 0.
static void mask_one(int how, int sig) {
    sigset_t set;
    sigemptyset(&set);
    if (sig != 0) sigaddset(&set, sig);
    sigprocmask(how, &set, NULL);
}

// Tells the caller, on the status pipe `fd`, why G or C could not go on (it reads one
// int), then ends.
static void _Noreturn report(int fd, int code) {
    ssize_t n;
    do n = write(fd, &code, sizeof code); while (n < 0 && errno == EINTR);
    _exit(127);
}

static void _Noreturn fail(int code) { report(STATUS_FD, code); }

static void close_from(int first) {
    if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0) return;
    struct rlimit limit;
    rlim_t last = getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 1024;
    if (last > 65536) last = 65536;
    for (rlim_t fd = first; fd < last; fd++) close((int)fd);
}

// Moves the descriptors G needs to 0-4 and closes every other one (the controller's
// sockets, other children's pipes, the lifeline's write end).
static void place_descriptors(int out_fd, int err_fd, int status_fd) {
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) report(status_fd, errno);
    // Copies above the targets first, so no dup2 below overwrites a source still needed.
    int sources[5] = {null_fd, out_fd, err_fd, lifeline[0], status_fd};
    for (int i = 0; i < 5; i++) {
        sources[i] = fcntl(sources[i], F_DUPFD, 16);
        if (sources[i] < 0) report(status_fd, errno);
    }
    for (int i = 4; i >= 0; i--) {
        if (dup2(sources[i], i) < 0) report(i == 4 ? sources[4] : STATUS_FD, errno);
    }
    close_from(FIRST_CLOSED_FD);
    fcntl(LIFELINE_FD, F_SETFD, FD_CLOEXEC);
    fcntl(STATUS_FD, F_SETFD, FD_CLOEXEC);
}

// C, between fork and exec: signals back to their defaults, nothing blocked.
static void _Noreturn run_command(const char *path, char *const argv[], char *const envp[]) {
    for (int i = 0; i < IGNORED_COUNT; i++) set_action(ignored_signals[i], SIG_DFL);
    set_action(SIGCHLD, SIG_DFL);
    mask_one(SIG_SETMASK, 0);
    execve(path, argv, envp);
    fail(errno);
}

// What C runs, on a stack of its own (see start_command).
struct command {
    const char *path;
    char *const *argv;
    char *const *envp;
};

static int command_main(void *argument) {
    const struct command *command = argument;
    run_command(command->path, command->argv, command->envp);
}

// C's stack while it shares G's memory, between its clone and its execve.
static char command_stack[64 * 1024] __attribute__((aligned(16)));

// Starts C the way posix_spawn does: clone(CLONE_VM | CLONE_VFORK) on a separate stack, so
// G's large address space (a copy of the controller's) is not copied a second time, and
// G resumes only once C has called execve or exited. Returns C's pid or -1.
static pid_t start_command(const char *path, char *const argv[], char *const envp[]) {
    struct command command = {path, argv, envp};
    return clone(command_main, command_stack + sizeof command_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &command);
}

// Ends G the way `status` says C ended.
static void _Noreturn end_like(int status) {
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    int sig = WTERMSIG(status);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    set_action(sig, SIG_DFL);
    mask_one(SIG_UNBLOCK, sig);
    kill(getpid(), sig);
    _exit(128 + sig);
}

// The controller is gone: C first (so it is reaped, not left to init), then the group,
// G included.
static void _Noreturn kill_group(pid_t child) {
    int status;
    kill(child, SIGKILL);
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    kill(0, SIGKILL);
    _exit(128 + SIGKILL);
}

// Waits for whichever comes first, C's end or the lifeline's hang-up, without a timeout:
// C's pidfd turns readable when it ends (Linux 5.3+; without one, SIGCHLD interrupts
// ppoll, whose mask is the only moment SIGCHLD is unblocked, so no wake-up is lost).
static void _Noreturn watch(pid_t child, int pidfd) {
    struct pollfd fds[2] = {{.fd = LIFELINE_FD, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
    sigset_t during;
    sigemptyset(&during);
    for (;;) {
        int status;
        if (waitpid(child, &status, WNOHANG) == child) end_like(status);
        int ready = ppoll(fds, pidfd >= 0 ? 2 : 1, NULL, &during);
        // Any event on the lifeline (it is never written) or a failing poll ends the
        // group: a guard that can no longer watch must not leave the command running.
        if ((ready < 0 && errno != EINTR) || (ready > 0 && fds[0].revents != 0)) kill_group(child);
    }
}

static void _Noreturn run_guard(
    pid_t controller, const char *path, char *const argv[], char *const envp[], int out_fd, int err_fd,
    int status_fd) {
    // The controller may have died before this process ran: start nothing then.
    if (getppid() != controller) _exit(127);
    block_all();
    // Shown by ps and top; otherwise it bears the name of the controller thread that forked it.
    prctl(PR_SET_NAME, "failover-guard", 0, 0, 0);
    place_descriptors(out_fd, err_fd, status_fd);
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) reset_action(sig);
    }
    for (int i = 0; i < IGNORED_COUNT; i++) set_action(ignored_signals[i], SIG_IGN);
    set_action(SIGCHLD, on_child);
    if (setpgid(0, 0) != 0) fail(errno);
    pid_t child = start_command(path, argv, envp);
    if (child < 0) fail(errno);
    // G lets go of the output pipes, so the caller's reads end with C (and whatever C left
    // holding them), and is set up before it closes the status pipe: the caller returns
    // once both G's copy and C's (at its execve) are closed.
    dup2(0, 1);
    dup2(0, 2);
    int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
    mask_one(SIG_SETMASK, SIGCHLD);
    close(STATUS_FD);
    watch(child, pidfd);
}

int fo_guard_spawn(
    const char *path, char *const argv[], char *const envp[], int out_fd, int err_fd, pid_t *pid) {
    pthread_once(&lifeline_once, open_lifeline);
    if (lifeline_error != 0) return lifeline_error;
    int status[2];
    if (pipe2(status, O_CLOEXEC) != 0) return errno;
    pid_t controller = getpid();
    pid_t guard = fork();
    if (guard < 0) {
        int code = errno;
        close(status[0]);
        close(status[1]);
        return code;
    }
    if (guard == 0) run_guard(controller, path, argv, envp, out_fd, err_fd, status[1]);
    close(status[1]);
    // Also here, so the group exists when this returns whatever G has done so far.
    setpgid(guard, guard);
    int code = 0;
    ssize_t n;
    do n = read(status[0], &code, sizeof code); while (n < 0 && errno == EINTR);
    close(status[0]);
    if (n == (ssize_t)sizeof code) {
        int ignored;
        while (waitpid(guard, &ignored, 0) < 0 && errno == EINTR) {}
        return code;
    }
    *pid = guard;
    return 0;
}

int fo_cloexec_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
