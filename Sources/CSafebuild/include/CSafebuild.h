#ifndef CSAFEBUILD_H
#define CSAFEBUILD_H

#include <sys/types.h>
#include <signal.h>
#include <stdint.h>

/// C for what Swift cannot do directly: variadic ioctl, pseudo-terminals, signalfd, and a spawn that sets
/// PR_SET_PDEATHSIG in the child (spawn.c).

/// Copies the window size of terminal `from` onto terminal `to` (a pseudo-terminal master). 0 on success.
int sb_copy_winsize(int from, int to);

/// Opens a pseudo-terminal pair in raw mode, sized like `like_fd` when that is a terminal.
/// On success stores the master and slave descriptors (both close-on-exec) and returns 0; -1 with errno otherwise.
int sb_open_pty(int like_fd, int *master, int *slave);

/// Blocks `signals` (count entries) in the calling thread and returns a close-on-exec, non-blocking signalfd for them.
int sb_signalfd(const int *signals, int count);

/// Reads one pending signal from a signalfd: stores its number, sender pid and si_code. 1 read, 0 none, -1 error.
int sb_read_signal(int fd, int *signo, int32_t *pid, int32_t *code);

/// The SI_KERNEL code (terminal-generated signals carry it).
int sb_si_kernel(void);

/// Unblocks every signal in the calling thread.
void sb_unblock_all_signals(void);

/// 1 when `signo` is ignored (SIG_IGN) in this process, else 0.
int sb_signal_ignored(int signo);

/// pipe2(fds, O_CLOEXEC).
int sb_pipe(int fds[2]);

/// prctl(PR_SET_PDEATHSIG, 0): a child started by `sb_spawn` that must outlive its parent (the background refresh
/// of the engine state) takes the death signal away first thing.
int sb_clear_death_signal(void);

/// memmem(3), a GNU extension the Glibc module does not show.
const void *sb_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length);

/// Starts `path` with `argv` and `envp` as posix_spawn would, but the child is SIGKILLed when the calling thread's
/// process dies (PR_SET_PDEATHSIG, set in the child before exec; a child whose parent is already gone exits 127).
/// In the child: `defaults` (ndefaults signals) get their default disposition, as does any signal with a handler;
/// a signal ignored and not in `defaults` stays ignored; `dups` holds ndups pairs (from, to) applied with dup2 in
/// order (from == to clears close-on-exec); with `pgroup` >= 0, setpgid(0, pgroup); the signal mask is emptied.
/// Returns 0 and stores the pid, or the errno of what failed (fork, setpgid, dup2 or exec), the child reaped.
int sb_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], const int *dups, int ndups,
             const int *defaults, int ndefaults, int pgroup);

#endif
