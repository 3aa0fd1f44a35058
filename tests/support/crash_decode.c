/* Preloaded (LD_PRELOAD) into a model process, this replaces the graph
 * computation that llama_decode runs, so the process dies inside the native
 * code on its first decode, as ggml's AMX path does on Sapphire Rapids CPUs.
 * CRASH_HOW: "segv" (default) segfaults, "ill" executes an illegal
 * instruction, "hang" never returns. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

int ggml_backend_sched_graph_compute_async(void *sched, void *graph) {
    const char *how = getenv("CRASH_HOW");
    (void)sched;
    (void)graph;
    if (how && how[0] == 'i') __builtin_trap();
    if (how && how[0] == 'h') for (;;) pause();
    volatile int *nowhere = (int *)0;
    *nowhere = 1;
    raise(SIGSEGV);
    return 0;
}
