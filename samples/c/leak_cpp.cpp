// linger-sample: C++ new and new[] leaks (operator new calls malloc)
//
// operator new and operator new[] are libstdc++'s, which call malloc: the
// innermost frame that is not an allocator is the function that said
// `new`.  make_widget leaks 4 Widgets of 40 bytes; make_samples leaks 2
// arrays of 10 ints (40 bytes: no array cookie for a trivial type).
// Containers and strings that are destroyed must not be reported.
//
// linger-expect: leak make_widget blocks=4 bytes=160 site=widget callers=build_widgets>main
// linger-expect: leak make_samples blocks=2 bytes=80 site=samples
// linger-expect-allocations: native_allocs>=1000

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

extern "C" {
#include "sample_out.h"
}

struct Widget
{
  long id;
  double weight;
  Widget *next;
  char tag[16];
};
static_assert (sizeof (Widget) == 40, "the expectation says 40 bytes a widget");

static Widget *
make_widget (long id)
{
  Widget *w = new Widget (); // linger-site: widget
  w->id = id;
  return w;
}

static long
build_widgets (int total, int kept)
{
  long sum = 0;
  for (int i = 0; i < total; i++)
    {
      Widget *w = make_widget (i);
      sum += w->id;
      if (i >= kept)
        delete w;
    }
  return sum;
}

static int *
make_samples (int seed)
{
  int *s = new int[10]; // linger-site: samples
  for (int i = 0; i < 10; i++)
    s[i] = seed + i;
  return s;
}

static size_t
churn_containers (int rounds)
{
  size_t total = 0;
  for (int i = 0; i < rounds; i++)
    {
      std::vector<std::string> names;
      std::map<int, std::string> by_id;
      for (int j = 0; j < 20; j++)
        {
          names.push_back (std::string (40 + j, 'a' + j % 26));
          by_id[j] = names.back ();
        }
      total += names.size () + by_id.size ();
    }
  return total;
}

int
main ()
{
  long sum = build_widgets (100, 4);
  for (int i = 0; i < 5; i++)
    {
      int *s = make_samples (i);
      sum += s[9];
      if (i >= 2)
        delete[] s;
    }
  say ("widgets %ld, containers %zu", sum, churn_containers (200));
  return 0;
}
