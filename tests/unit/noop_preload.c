/* noop_preload.c: a shared object that does nothing, preloaded by the
 * `linger run` tests in place of the real shim. */
int linger_test_noop_preload (void);

int
linger_test_noop_preload (void)
{
  return 0;
}
