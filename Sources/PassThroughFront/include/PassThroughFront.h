#ifndef PASS_THROUGH_FRONT_H
#define PASS_THROUGH_FRONT_H

#include <stddef.h>

/// The pass-through before Swift starts (front.c): whether this command line and environment are a plain docker command
/// that safebuild passes through whatever else holds, and if so the docker to exec (`docker`) and the value of
/// SAFEBUILD_VIA to hand it (`via`). 1: exec it; 0: leave the decision to safebuild proper (Safebuild.main), which
/// decides every case this does not take, with the same answer for the cases it takes (PassThroughFrontTests).
int sb_front_choose(int argc, char *const argv[], char *const envp[], const char *self, char *docker, size_t docker_size,
                    char *via, size_t via_size);

#endif
