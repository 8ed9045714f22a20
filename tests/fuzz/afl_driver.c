/* afl_driver.c: main() for fuzz_report.c outside libFuzzer.
 *
 * Built with afl-clang-fast / afl-clang-lto (build.sh), it is an AFL++
 * persistent-mode harness: test cases come through shared memory and
 * each is copied into a heap buffer of exactly its size, so that a read
 * past its end is caught by ASan (when built with it) instead of landing
 * in the rest of AFL's buffer.
 *
 * With file arguments (any compiler), it runs each file once and stops:
 *   afl_report crash-1 crash-2 ...
 * which is how a crash found by either fuzzer is reproduced.  Without
 * arguments and outside AFL++, it reads one input from standard input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT ();
#endif

static void
run_copy (const unsigned char *data,
          size_t               len)
{
  /* At least one byte allocated, exactly len used. */
  unsigned char *copy = malloc (len > 0 ? len : 1);

  if (copy == NULL)
    abort ();
  memcpy (copy, data, len);
  LLVMFuzzerTestOneInput (copy, len);
  free (copy);
}

int
main (int    argc,
      char **argv)
{
  LLVMFuzzerInitialize (&argc, &argv);

  if (argc > 1)
    {
      for (int i = 1; i < argc; i++)
        {
          g_autofree char *contents = NULL;
          gsize len = 0;
          g_autoptr(GError) error = NULL;

          if (!g_file_get_contents (argv[i], &contents, &len, &error))
            {
              fprintf (stderr, "afl_driver: %s\n", error->message);
              return 2;
            }
          fprintf (stderr, "afl_driver: %s (%zu bytes)\n", argv[i], (size_t) len);
          run_copy ((const unsigned char *) contents, len);
        }
      return 0;
    }

#ifdef __AFL_FUZZ_TESTCASE_LEN
  __AFL_INIT ();
  {
    unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;

    while (__AFL_LOOP (10000))
      run_copy (buf, (size_t) __AFL_FUZZ_TESTCASE_LEN);
  }
#else
  {
    GByteArray *in = g_byte_array_new ();
    unsigned char chunk[65536];
    ssize_t n;

    while ((n = read (STDIN_FILENO, chunk, sizeof chunk)) > 0)
      g_byte_array_append (in, chunk, (guint) n);
    run_copy (in->data, in->len);
    g_byte_array_unref (in);
  }
#endif
  return 0;
}
