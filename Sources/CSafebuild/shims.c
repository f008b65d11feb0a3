#define _GNU_SOURCE
#include "CSafebuild.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>
#include <pthread.h>

int sb_copy_winsize(int from, int to) {
    struct winsize ws;
    if (ioctl(from, TIOCGWINSZ, &ws) != 0) return -1;
    return ioctl(to, TIOCSWINSZ, &ws);
}

int sb_open_pty(int like_fd, int *master, int *slave) {
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) return -1;
    if (grantpt(m) != 0 || unlockpt(m) != 0) { int e = errno; close(m); errno = e; return -1; }
    char name[128];
    if (ptsname_r(m, name, sizeof name) != 0) { int e = errno; close(m); errno = e; return -1; }
    int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) { int e = errno; close(m); errno = e; return -1; }
    struct termios t;
    if (tcgetattr(s, &t) == 0) {
        // Output only: keep bytes as docker wrote them (no \n -> \r\n), the real terminal does its own translation.
        t.c_oflag &= ~(OPOST);
        t.c_lflag &= ~(ECHO);
        tcsetattr(s, TCSANOW, &t);
    }
    sb_copy_winsize(like_fd, m);
    *master = m;
    *slave = s;
    return 0;
}

int sb_signalfd(const int *signals, int count) {
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int sb_read_signal(int fd, int *signo, int32_t *pid, int32_t *code) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    if (n == (ssize_t)sizeof info) {
        *signo = (int)info.ssi_signo;
        *pid = (int32_t)info.ssi_pid;
        *code = info.ssi_code;
        return 1;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return -1;
}

int sb_si_kernel(void) { return SI_KERNEL; }

void sb_unblock_all_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    pthread_sigmask(SIG_SETMASK, &set, NULL);
}

int sb_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int sb_signal_ignored(int signo) {
    struct sigaction old;
    if (sigaction(signo, NULL, &old) != 0) return 0;
    return !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_IGN;
}

int sb_clear_death_signal(void) { return prctl(PR_SET_PDEATHSIG, 0); }

const void *sb_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length) {
    return memmem(haystack, haystack_length, needle, needle_length);
}
