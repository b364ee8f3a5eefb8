/* Shifts only the wall clock (CLOCK_REALTIME*, gettimeofday, time) by a fixed offset fixed at first use:
   WALLTIME_START="YYYY-MM-DD HH:MM:SS" in the process's TZ (or WALLTIME_START_EPOCH=seconds, which wins and is
   inherited by children so the whole tree shares one offset). Monotonic clocks and sleeps are untouched. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

static long long offset_ns; static int ready;
static int (*real_cg)(clockid_t, struct timespec *);

static void init(void) {
    if (ready) return;
    real_cg = dlsym(RTLD_NEXT, "clock_gettime");
    if (getenv("FAKETIME")) { offset_ns = 0; ready = 1; return; }  /* a test's own faketime: its clock, unshifted */
    const char *ep = getenv("WALLTIME_OFFSET_NS");
    if (ep) { offset_ns = atoll(ep); ready = 1; return; }
    const char *s = getenv("WALLTIME_START");
    if (s) {
        struct tm tm; memset(&tm, 0, sizeof tm);
        if (strptime(s, "%Y-%m-%d %H:%M:%S", &tm)) {
            tm.tm_isdst = -1;
            time_t want = mktime(&tm);
            struct timespec now; real_cg(CLOCK_REALTIME, &now);
            offset_ns = ((long long)want - now.tv_sec) * 1000000000LL - now.tv_nsec;
        }
    }
    char buf[32]; snprintf(buf, sizeof buf, "%lld", offset_ns);
    setenv("WALLTIME_OFFSET_NS", buf, 1);  /* children inherit the same offset, not a fresh start */
    ready = 1;
}

__attribute__((constructor)) static void ctor(void) { init(); }

int clock_gettime(clockid_t clk, struct timespec *ts) {
    init();
    int r = real_cg(clk, ts);
    if (r == 0 && (clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE || clk == CLOCK_TAI)) {
        long long t = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + offset_ns;
        ts->tv_sec = t / 1000000000LL; ts->tv_nsec = t % 1000000000LL;
    }
    return r;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts);
    if (tv) { tv->tv_sec = ts.tv_sec; tv->tv_usec = ts.tv_nsec / 1000; }
    return 0;
}

time_t time(time_t *t) {
    struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts);
    if (t) *t = ts.tv_sec;
    return ts.tv_sec;
}
