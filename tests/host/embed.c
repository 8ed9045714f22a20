/* A C program that embeds CPython the way plugin hosts do: it dlopen()s
 * libpython with RTLD_LOCAL (so none of its symbols are global), runs a
 * script and finalizes.  Used by tests/check_host.py (scenario "embed").
 *
 *     embed LIBPYTHON SCRIPT
 *
 * Exit status: the script's (0 or 1 from PyRun_SimpleString), 2 if the
 * library or a symbol cannot be found.  Built at test time with cc. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef void (*init_fn)(void);
typedef int (*run_fn)(const char *);
typedef int (*fini_fn)(void);

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: embed LIBPYTHON SCRIPT\n");
        return 2;
    }
    char *script = read_file(argv[2]);
    if (!script) {
        fprintf(stderr, "embed: cannot read %s\n", argv[2]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "embed: dlopen: %s\n", dlerror());
        return 2;
    }
    init_fn init = (init_fn)dlsym(lib, "Py_Initialize");
    run_fn run = (run_fn)dlsym(lib, "PyRun_SimpleString");
    fini_fn fini = (fini_fn)dlsym(lib, "Py_FinalizeEx");
    if (!init || !run || !fini) {
        fprintf(stderr, "embed: missing symbol in %s\n", argv[1]);
        return 2;
    }
    printf("embed: initializing\n");
    fflush(stdout);
    init();
    int status = run(script) == 0 ? 0 : 1;
    if (fini() < 0)
        status = 120;
    free(script);
    printf("embed: finalized, status %d\n", status);
    return status;
}
