// The pass-through front: a plain docker command (`docker ps`, `docker push` …) execs the real docker before Swift's
// runtime and Foundation start, which cost about 1 ms of every pass-through (docs/benchmarks.md). It takes only the
// cases whose answer cannot differ from safebuild proper's (Safebuild.main → DockerLocator.locate → Exec.replace):
//   - the program is named `docker` or `safebuild` (so that no test binary linking this target is ever replaced);
//   - the first argument is one of docker's commands that is never protected and is no command of safebuild's own
//     (so no `--sb-…` option, no global docker flag before the command: those go the long way);
//   - none of safebuild's option variables but a SAFEBUILD_DOCKER without blanks (any other could warn, dry-run or
//     switch something); SAFEBUILD_VIA is read and handed on as safebuild proper does;
//   - the docker found is not safebuild itself by inode, and not a file of safebuild's size (a copy is told by its
//     bytes, which safebuild proper compares).
// Anything else, and any failure here (no docker, not executable, exec failing), returns to safebuild proper, which
// decides again from the start and says what is wrong.
#include "PassThroughFront.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// docker's commands (DockerCommandLine.commandNames) less every first word of a protected spelling (build, builder,
// buildx, container, image, run): `docker image ls` goes the long way, for the one check of `image build`.
static const char *const plain[] = {
    "attach", "bake", "checkpoint", "commit", "compose", "config", "context", "cp", "create", "debug", "diff",
    "events", "exec", "export", "history", "images", "import", "info", "init", "inspect", "kill", "load", "login",
    "logout", "logs", "manifest", "network", "node", "pause", "plugin", "port", "ps", "pull", "push", "rename",
    "restart", "rm", "rmi", "save", "scout", "search", "secret", "service", "stack", "start", "stats", "stop", "swarm",
    "system", "tag", "top", "trust", "unpause", "update", "version", "volume", "wait", NULL,
};

static int is_plain(const char *word) {
    for (const char *const *p = plain; *p; p++)
        if (strcmp(*p, word) == 0) return 1;
    return 0;
}

// safebuild's other options as variables (SafebuildOptions.declarations, less docker): set at all, they go the long
// way. Other SAFEBUILD_* names (a test bed's, a wrapper's) are nobody's options: safebuild proper ignores them too.
static const char *const options[] = {"POLICY=", "JOURNAL=", "DRY_RUN=", "QUIET=", "OFF=", "MAX_ATTEMPTS=", NULL};

static int is_option(const char *entry) {
    for (const char *const *p = options; *p; p++)
        if (strncmp(entry, *p, strlen(*p)) == 0) return 1;
    return 0;
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

// Whether `resolved` is one of the colon-separated paths of `list`.
static int listed(const char *list, const char *resolved) {
    size_t n = strlen(resolved);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, resolved, n) == 0) return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

// FileIdentity(path:): the real path, then stat of it.
static int identify(const char *path, char *real, struct stat *st) {
    if (!realpath(path, real)) return 0;
    return stat(real, st) == 0;
}

static int copy(char *to, size_t size, const char *from) {
    size_t n = strlen(from);
    if (n + 1 > size) return 0;
    memcpy(to, from, n + 1);
    return 1;
}

int sb_front_choose(int argc, char *const argv[], char *const envp[], const char *self, char *docker, size_t docker_size,
                    char *via, size_t via_size) {
    if (argc < 2 || !argv[0] || !argv[1]) return 0;
    const char *name = base_name(argv[0]);
    if (strcmp(name, "docker") != 0 && strcmp(name, "safebuild") != 0) return 0;
    if (!is_plain(argv[1])) return 0;

    const char *explicit = NULL, *visited = "", *path = "/usr/local/bin:/usr/bin:/bin";
    for (char *const *e = envp; e && *e; e++) {
        if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
        if (strncmp(*e, "SAFEBUILD_", 10) != 0) continue;
        if (strncmp(*e, "SAFEBUILD_VIA=", 14) == 0) {
            visited = *e + 14;
        } else if (strncmp(*e, "SAFEBUILD_DOCKER=", 17) == 0) {
            explicit = *e + 17;
            if (!*explicit || strpbrk(explicit, " \t\n\r\v\f")) return 0;
        } else if (is_option(*e + 10)) {
            return 0;
        }
    }

    char real[PATH_MAX], me_real[PATH_MAX];
    struct stat st, me;
    if (!identify(self, me_real, &me)) return 0;
    if (explicit) {
        if (!identify(explicit, real, &st)) return 0;
        if ((st.st_dev == me.st_dev && st.st_ino == me.st_ino) || st.st_size == me.st_size || listed(visited, real))
            return 0;
        if (access(explicit, X_OK) != 0 || !copy(docker, docker_size, explicit)) return 0;
    } else {
        int found = 0;
        for (const char *p = path; p;) {
            const char *end = strchr(p, ':');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            char candidate[PATH_MAX];
            const char *dir = len ? p : ".";
            size_t dir_len = len ? len : 1;
            p = end ? end + 1 : NULL;
            if (dir_len + sizeof("/docker") > sizeof(candidate)) return 0;
            memcpy(candidate, dir, dir_len);
            memcpy(candidate + dir_len, "/docker", sizeof("/docker"));
            if (!identify(candidate, real, &st) || !S_ISREG(st.st_mode) || access(candidate, X_OK) != 0) continue;
            if (st.st_dev == me.st_dev && st.st_ino == me.st_ino) continue;
            if (st.st_size == me.st_size) return 0;
            if (listed(visited, real)) continue;
            if (!copy(docker, docker_size, candidate)) return 0;
            found = 1;
            break;
        }
        if (!found) return 0;
    }
    // DockerLocator.via(adding:to:): the old value, then the docker's real path.
    size_t old = strlen(visited), add = strlen(real);
    if (old + 1 + add + 1 > via_size) return 0;
    if (old) {
        memcpy(via, visited, old);
        via[old] = ':';
        memcpy(via + old + 1, real, add + 1);
    } else {
        memcpy(via, real, add + 1);
    }
    return 1;
}

// Runs before Swift's runtime and Foundation's constructors (priority 101 sorts before theirs). glibc hands the
// constructors of the executable argc, argv and envp. Nothing of the process is changed before the exec (docker gets
// its own argv and environment), so that when the exec fails safebuild proper starts from the same state.
__attribute__((constructor(101))) static void sb_front(int argc, char **argv, char **envp) {
    static char self[PATH_MAX], docker[PATH_MAX], via[2 * PATH_MAX + 8192 + sizeof("SAFEBUILD_VIA=")];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) return;
    self[n] = 0;
    const size_t prefix = sizeof("SAFEBUILD_VIA=") - 1;
    memcpy(via, "SAFEBUILD_VIA=", prefix);
    if (!sb_front_choose(argc, argv, envp, self, docker, sizeof(docker), via + prefix, sizeof(via) - prefix)) return;

    int count = 0;
    while (envp && envp[count]) count++;
    char **env = malloc((size_t)(count + 2) * sizeof(char *));
    char **args = malloc((size_t)(argc + 1) * sizeof(char *));
    if (!env || !args) goto fail;
    // DockerLocator's setenv: SAFEBUILD_VIA replaced where it stands, else added at the end.
    int replaced = 0;
    for (int i = 0; i < count; i++) {
        if (strncmp(envp[i], "SAFEBUILD_VIA=", prefix) == 0 && !replaced) {
            env[i] = via;
            replaced = 1;
        } else {
            env[i] = envp[i];
        }
    }
    env[count] = replaced ? NULL : via;
    env[count + 1] = NULL;
    args[0] = docker;
    for (int i = 1; i < argc; i++) args[i] = argv[i];
    args[argc] = NULL;
    execve(docker, args, env);
fail:
    // No exec: safebuild proper decides again and says why.
    free(env);
    free(args);
}
