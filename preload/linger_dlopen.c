/* linger_dlopen.c: dlopen() as a jump, with a look at late libpythons. */
#include "linger_dlopen.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "linger_python.h"

typedef void *(*dlopen_fn) (const char *, int);

static dlopen_fn real_dlopen;
static bool watching;

void
linger_dlopen_watch (void)
{
  __atomic_store_n (&watching, true, __ATOMIC_RELEASE);
}

static dlopen_fn
resolve_real (void)
{
  dlopen_fn real = __atomic_load_n (&real_dlopen, __ATOMIC_ACQUIRE);
  if (real == NULL)
    {
      /* Another library's constructor may dlopen() before ours ran. */
      real = (dlopen_fn) dlsym (RTLD_NEXT, "dlopen");
      __atomic_store_n (&real_dlopen, real, __ATOMIC_RELEASE);
    }
  return real;
}

/* Tries the DT_RUNPATH (or DT_RPATH) directories of the object that
 * called dlopen(), with $ORIGIN expanded, as the C library would have for
 * that caller: our own call comes from the shim, which has none. */
static void *
open_from_caller_paths (dlopen_fn real, const char *file, int mode, const void *caller)
{
  Dl_info info;
  struct link_map *lm = NULL;
  if (caller == NULL || !dladdr1 (caller, &info, (void **) &lm, RTLD_DL_LINKMAP) || lm == NULL || lm->l_ld == NULL)
    return NULL;
  const char *strtab = NULL;
  ElfW (Xword) runpath = 0, rpath = 0;
  bool have_runpath = false, have_rpath = false;
  for (const ElfW (Dyn) *d = lm->l_ld; d->d_tag != DT_NULL; d++)
    {
      if (d->d_tag == DT_STRTAB)
        strtab = (const char *) d->d_un.d_ptr; /* relocated by ld.so on x86_64 */
      else if (d->d_tag == DT_RUNPATH)
        runpath = d->d_un.d_val, have_runpath = true;
      else if (d->d_tag == DT_RPATH)
        rpath = d->d_un.d_val, have_rpath = true;
    }
  if (strtab == NULL || (!have_runpath && !have_rpath))
    return NULL;
  const char *paths = strtab + (have_runpath ? runpath : rpath);

  char origin[4096];
  const char *name = lm->l_name;
  if (name == NULL || name[0] == '\0')
    {
      ssize_t n = readlink ("/proc/self/exe", origin, sizeof origin - 1);
      origin[n > 0 ? n : 0] = '\0';
    }
  else
    snprintf (origin, sizeof origin, "%s", name);
  char *slash = strrchr (origin, '/');
  if (slash != NULL)
    *slash = '\0';

  while (*paths != '\0')
    {
      size_t len = strcspn (paths, ":");
      char dir[4096];
      size_t o = 0;
      for (size_t i = 0; i < len && o + 1 < sizeof dir;)
        {
          const char *p = paths + i;
          size_t skip = 0;
          if (strncmp (p, "$ORIGIN", 7) == 0)
            skip = 7;
          else if (strncmp (p, "${ORIGIN}", 9) == 0)
            skip = 9;
          if (skip != 0 && i + skip <= len)
            {
              o += (size_t) snprintf (dir + o, sizeof dir - o, "%s", origin);
              if (o >= sizeof dir)
                o = sizeof dir - 1;
              i += skip;
            }
          else
            dir[o++] = paths[i++];
        }
      dir[o] = '\0';
      char full[8192];
      if (o > 0 && (size_t) snprintf (full, sizeof full, "%s/%s", dir, file) < sizeof full)
        {
          void *h = real (full, mode);
          if (h != NULL)
            return h;
        }
      paths += len;
      if (*paths == ':')
        paths++;
    }
  return NULL;
}

/* The slow path: entered by a jump, so its return address is the
 * program's call site. */
__attribute__ ((noinline, used)) void *linger_dlopen_slow (const char *file, int mode);

void *
linger_dlopen_slow (const char *file, int mode)
{
  const void *caller = __builtin_extract_return_addr (__builtin_return_address (0));
  dlopen_fn real = resolve_real ();
  if (real == NULL)
    return NULL;
  void *handle = real (file, mode);
  if (handle == NULL && strchr (file, '/') == NULL)
    {
      void *h = open_from_caller_paths (real, file, mode, caller);
      if (h != NULL)
        handle = h;
      else
        (void) real (file, mode); /* leave the C library's own dlerror() */
    }
  if (handle != NULL)
    linger_python_dlopened (handle);
  return handle;
}

/* Where dlopen() jumps: the C library's, or the slow path for a
 * libpython while none is known.  No allocation here. */
__attribute__ ((used)) void *linger_dlopen_route (const char *file, int mode);

void *
linger_dlopen_route (const char *file, int mode)
{
  (void) mode;
  if (file != NULL && __atomic_load_n (&watching, __ATOMIC_ACQUIRE) && !linger_python_found ())
    {
      const char *base = strrchr (file, '/');
      if (strstr (base != NULL ? base : file, "libpython") != NULL)
        return (void *) linger_dlopen_slow;
    }
  return (void *) resolve_real ();
}

#if defined(__x86_64__)
/* dlopen: ask where to go, then jump there with the caller's arguments
 * and return address untouched.  A C wrapper would call the C library's
 * dlopen from inside the shim and change whose RUNPATH it searches. */
__asm__ (".text\n"
         ".globl dlopen\n"
         ".type dlopen, @function\n"
         "dlopen:\n"
         ".cfi_startproc\n"
         "  pushq %rdi\n"
         ".cfi_adjust_cfa_offset 8\n"
         "  pushq %rsi\n"
         ".cfi_adjust_cfa_offset 8\n"
         "  subq $8, %rsp\n"
         ".cfi_adjust_cfa_offset 8\n"
         "  call linger_dlopen_route\n"
         "  addq $8, %rsp\n"
         ".cfi_adjust_cfa_offset -8\n"
         "  popq %rsi\n"
         ".cfi_adjust_cfa_offset -8\n"
         "  popq %rdi\n"
         ".cfi_adjust_cfa_offset -8\n"
         "  testq %rax, %rax\n"
         "  jz 1f\n"
         "  jmp *%rax\n"
         "1:\n"
         "  xorl %eax, %eax\n"
         "  ret\n"
         ".cfi_endproc\n"
         ".size dlopen, .-dlopen\n");
#endif
