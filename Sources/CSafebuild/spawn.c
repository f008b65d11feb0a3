#define _GNU_SOURCE
#include "CSafebuild.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

// posix_spawn cannot ask the kernel to kill the child with its parent (PR_SET_PDEATHSIG must be set in the child,
// between fork and exec), so safebuild starts its children here. The shape is glibc's posix_spawn: vfork (the parent
// is suspended until the child has exec'd or exited, no page tables are copied), every signal blocked around it so
// that no handler of the parent's can run in the child that shares its memory, and only async-signal-safe calls in
// the child. An exec failure is handed back through memory the two share (vfork's child writes the parent's
// variables).

/// The kernel's struct sigaction (x86_64 and arm64: handler, flags, restorer, a 64-bit mask).
struct kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};

int sb_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], const int *dups, int ndups,
             const int *defaults, int ndefaults, int pgroup) {
    sigset_t all, old;
    sigfillset(&all);
    if (pthread_sigmask(SIG_BLOCK, &all, &old) != 0) return errno;

    pid_t parent = getpid();
    volatile int failure = 0;
    pid_t child = vfork();
    if (child == 0) {
        // Default dispositions for `defaults`; a handler of the parent's would be meaningless after exec and must
        // not run here before it. A signal ignored that is not in `defaults` stays ignored (`nohup`). The raw system
        // call reaches every signal, glibc's own 32 and 33 too (its sigaction refuses them).
        for (int s = 1; s < NSIG; s++) {
            if (s == SIGKILL || s == SIGSTOP) continue;
            int reset = 0;
            for (int i = 0; i < ndefaults; i++) {
                if (defaults[i] == s) { reset = 1; break; }
            }
            struct kernel_sigaction current;
            if (!reset && syscall(SYS_rt_sigaction, s, NULL, &current, sizeof current.mask) == 0) {
                reset = current.handler != SIG_DFL && current.handler != SIG_IGN;
            }
            if (reset) {
                struct kernel_sigaction dfl = {0};
                dfl.handler = SIG_DFL;
                syscall(SYS_rt_sigaction, s, &dfl, NULL, sizeof dfl.mask);
            }
        }
        if (pgroup >= 0 && setpgid(0, pgroup) != 0) goto fail;
        // Killed with safebuild. The parent may already be gone (killed while this child was being made): then the
        // death signal will never come, so stop here.
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) goto fail;
        if (getppid() != parent) _exit(127);
        for (int i = 0; i < ndups; i++) {
            int from = dups[2 * i], to = dups[2 * i + 1];
            if (from == to) {
                int flags = fcntl(from, F_GETFD);
                if (flags < 0 || fcntl(from, F_SETFD, flags & ~FD_CLOEXEC) != 0) goto fail;
            } else if (dup2(from, to) < 0) {
                goto fail;
            }
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(path, argv, envp);
    fail:
        failure = errno ? errno : ECHILD;
        _exit(127);
    }
    int forkError = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (child < 0) return forkError;
    if (failure != 0) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        return failure;
    }
    *pid = child;
    return 0;
}
