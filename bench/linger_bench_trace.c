/* linger_bench_trace.c: writes a synthetic trace of a large Python heap,
 * for bench/analyzer_bench.py.
 *
 *   linger-bench-trace [--objects N] [--refs R] [--seed S] [--snapshots 1|2] OUTPUT
 *
 * The heap is shaped like a long-running Python service on 3.11: modules
 * with functions and classes; registries and caches of instances arranged
 * in trees whose children point back at their parent (so most of the live
 * heap is one large cycle, as in real programs); instances with and
 * without a __dict__, holding small ints, interned strings, None, tuples
 * and dicts; bound-method cycles, live and garbage; trees that nothing
 * reaches any more (cyclic garbage); weakref.finalize entries, a few of
 * which keep their own object alive; weak references, some with
 * callbacks.  Objects get scattered addresses, as pymalloc's arenas give.
 * After the structure is built, references to shared constants (interned
 * strings, small ints, None) are added until there are R references.
 *
 * With --snapshots 2 the trace holds a first snapshot of the first three
 * quarters of the objects (the heap before it grew) and a second of all.
 *
 * It uses the shim's own writer, so the encoding is the real one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "linger_writer.h"

typedef struct
{
  uint64_t size;
  uint32_t type;       /* string id */
  uint32_t flags;
  uint32_t name;       /* string id */
  int32_t  extra;      /* references from outside the graph */
  uint32_t children;   /* an instance's children list */
} Obj;

typedef struct
{
  uint32_t source;
  uint32_t target;
  uint32_t label;
  uint16_t label_kind;
  uint16_t ref_kind;
} Ref;

typedef struct
{
  uint32_t referent;
  uint32_t fin, info, weakref, func, args;
} Fin;

typedef struct
{
  uint32_t weakref, referent, callback;
} Weak;

typedef struct
{
  void   *data;
  size_t  len;
  size_t  cap;
  size_t  elt;
} Vec;

static void *
vec_push (Vec *v)
{
  if (v->len == v->cap)
    {
      v->cap = v->cap ? v->cap * 2 : 1024;
      v->data = realloc (v->data, v->cap * v->elt);
      if (v->data == NULL)
        {
          perror ("linger-bench-trace");
          exit (1);
        }
    }
  return (char *) v->data + v->elt * v->len++;
}

#define VEC(type) { NULL, 0, 0, sizeof (type) }
#define AT(vec, type, i) (((type *) (vec).data)[i])

static Vec objs = VEC (Obj);
static Vec refs = VEC (Ref);
static Vec fins = VEC (Fin);
static Vec weaks = VEC (Weak);
static Vec roots = VEC (linger_root_entry);
static linger_writer w;

static uint64_t rng_state = 88172645463325252ull;

static uint64_t
rng (void)
{
  /* xorshift64*: deterministic for a seed, fast, good enough. */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ull;
}

static uint32_t
below (uint32_t n)
{
  return (uint32_t) (rng () % n);
}

static int
chance (unsigned percent)
{
  return below (100) < percent;
}

static uint32_t
str (const char *s)
{
  return linger_writer_intern_cstr (&w, s);
}

static uint32_t
obj (uint32_t type,
     uint32_t name,
     uint32_t flags,
     uint64_t size)
{
  Obj *o = vec_push (&objs);

  *o = (Obj) { size, type, flags, name, 0, UINT32_MAX };
  return (uint32_t) (objs.len - 1);
}

static void
ref (uint32_t source,
     uint32_t target,
     uint16_t label_kind,
     uint32_t label,
     uint16_t ref_kind)
{
  Ref *r = vec_push (&refs);

  *r = (Ref) { source, target, label, label_kind, ref_kind };
}

static void
attr (uint32_t source,
      uint32_t target,
      uint32_t name)
{
  ref (source, target, LINGER_LABEL_ATTR, name, LINGER_REF_STRONG);
}

static void
key (uint32_t dict,
     uint32_t target,
     uint32_t text)
{
  ref (dict, target, LINGER_LABEL_KEY, text, LINGER_REF_STRONG);
}

static void
item (uint32_t seq,
      uint32_t target,
      uint32_t index)
{
  ref (seq, target, LINGER_LABEL_INDEX, index, LINGER_REF_STRONG);
}

/* --- the heap ------------------------------------------------------------ */

#define T LINGER_OBJ_GC_TRACKED

enum { N_SMALL_INTS = 262, N_STRINGS = 4000 };

typedef struct
{
  uint32_t dict;
  uint32_t registry;        /* list of tree roots */
  uint32_t n_registry;
  uint32_t cache;           /* dict of tree roots, or none */
  uint32_t n_cache;
  uint32_t weak_cache;      /* dict of weakrefs, or none */
  uint32_t n_weak;
  uint32_t handlers;        /* list of objects with bound-method cycles */
  uint32_t n_handlers;
  uint32_t classes[6];
  uint32_t class_names[6];  /* string ids of "mod.ClassK" */
  uint32_t methods[6];      /* one function per class, for bound methods */
  uint32_t n_classes;
  uint32_t functions[12];
  uint32_t n_functions;
} Module;

static uint32_t none_obj, true_obj, false_obj, object_class;
static uint32_t small_ints[N_SMALL_INTS];
static uint32_t strings[N_STRINGS];
static uint32_t s_int, s_str, s_list, s_dict, s_tuple, s_function, s_code, s_type,
  s_module, s_method, s_finalize, s_info, s_weakref, s_none, s_bool;
static uint32_t a_dict, a_globals, a_code, a_name, a_mro, a_module, a_id, a_parent,
  a_children, a_active, a_owner, a_tags, a_data, a_callback, a_func, a_self,
  a_weakref, a_args, a_extra[8];
static uint32_t k_keys[64];   /* "'k0'".."'k63'": formatted dict keys */
static uint32_t k_finalize;

/* Instances and dicts that get the extra references at the end. */
static Vec holders = VEC (uint32_t);
static Vec holder_is_dict = VEC (uint8_t);

static uint32_t
pool_value (void)
{
  switch (below (4))
    {
    case 0: return small_ints[below (N_SMALL_INTS)];
    case 1: return none_obj;
    default: return strings[below (N_STRINGS)];
    }
}

/* An attribute of an instance, in its __dict__ or inline (3.11). */
static void
set_attr (uint32_t holder,
          int      is_dict,
          uint32_t name_attr,
          uint32_t name_key,
          uint32_t value)
{
  if (is_dict)
    key (holder, value, name_key);
  else
    attr (holder, value, name_attr);
}

static uint32_t
new_instance (const Module *m,
              uint32_t      parent)
{
  uint32_t c = below (m->n_classes);
  uint32_t o = obj (m->class_names[c], 0, T, 56);
  uint32_t holder = o;
  int is_dict = chance (50);
  uint32_t children;

  ref (o, m->classes[c], LINGER_LABEL_NONE, 0, LINGER_REF_STRONG);   /* ob_type */
  if (is_dict)
    {
      holder = obj (s_dict, 0, T | LINGER_OBJ_DICT, 360);
      attr (o, holder, a_dict);
      AT (objs, Obj, o).size = 48;
    }
  *(uint32_t *) vec_push (&holders) = holder;
  *(uint8_t *) vec_push (&holder_is_dict) = (uint8_t) is_dict;

  set_attr (holder, is_dict, a_id, k_keys[0],
            chance (70) ? small_ints[below (N_SMALL_INTS)] : obj (s_int, 0, 0, 28));
  set_attr (holder, is_dict, a_name, k_keys[1], strings[below (N_STRINGS)]);
  set_attr (holder, is_dict, a_parent, k_keys[2], parent != UINT32_MAX ? parent : none_obj);
  children = obj (s_list, 0, T, 56);
  AT (objs, Obj, o).children = children;
  set_attr (holder, is_dict, a_children, k_keys[3], children);
  set_attr (holder, is_dict, a_active, k_keys[4], chance (50) ? true_obj : false_obj);
  set_attr (holder, is_dict, a_owner, k_keys[5], none_obj);
  if (chance (30))
    {
      uint32_t tags = obj (s_tuple, 0, 0, 56);

      item (tags, strings[below (N_STRINGS)], 0);
      item (tags, strings[below (N_STRINGS)], 1);
      set_attr (holder, is_dict, a_tags, k_keys[6], tags);
    }
  if (chance (10))
    {
      uint32_t data = obj (s_dict, 0, T | LINGER_OBJ_DICT, 232);

      for (uint32_t k = 0; k < 3; k++)
        key (data, small_ints[below (N_SMALL_INTS)], k_keys[10 + k]);
      set_attr (holder, is_dict, a_data, k_keys[7], data);
    }
  return o;
}

/* self.callback = self.on_event */
static void
add_bound_method_cycle (const Module *m,
                        uint32_t      self)
{
  uint32_t c = below (m->n_classes);
  uint32_t method = obj (s_method, AT (objs, Obj, m->methods[c]).name, T | LINGER_OBJ_METHOD, 64);

  attr (method, m->methods[c], a_func);
  attr (method, self, a_self);
  attr (self, method, a_callback);
}

static uint32_t
append_child (uint32_t list,
              uint32_t child)
{
  uint32_t n = (uint32_t) ((AT (objs, Obj, list).size - 56) / 8);

  item (list, child, n);
  AT (objs, Obj, list).size += 8;
  return n;
}

/* A tree of instances whose children point back at their parent. */
static uint32_t
new_tree (const Module *m,
          uint32_t      n_nodes)
{
  uint32_t root = new_instance (m, UINT32_MAX);
  /* Instances of this tree, to pick parents from. */
  uint32_t *members = malloc (sizeof (uint32_t) * n_nodes);
  uint32_t n = 0;

  members[n++] = root;
  while (n < n_nodes)
    {
      uint32_t parent = members[below (n)];
      uint32_t child = new_instance (m, parent);

      append_child (AT (objs, Obj, parent).children, child);
      members[n++] = child;
    }
  free (members);
  return root;
}

static void
build_module (Module  *m,
              uint32_t index,
              uint32_t sys_modules)
{
  char buf[128];
  uint32_t module;
  uint32_t mod_name;
  uint32_t mro;

  snprintf (buf, sizeof buf, "app.mod%u", index);
  mod_name = str (buf);
  module = obj (s_module, mod_name, T | LINGER_OBJ_MODULE, 72);
  m->dict = obj (s_dict, 0, T | LINGER_OBJ_DICT, 4696);
  attr (module, m->dict, a_dict);
  snprintf (buf, sizeof buf, "'app.mod%u'", index);
  key (sys_modules, module, str (buf));
  *(linger_root_entry *) vec_push (&roots) = (linger_root_entry) { 0, LINGER_ROOT_MODULE, mod_name };
  AT (roots, linger_root_entry, roots.len - 1).address = module;   /* an index until written */
  key (m->dict, strings[index % N_STRINGS], str ("'__name__'"));

  m->n_functions = 4 + below (9);
  for (uint32_t f = 0; f < m->n_functions; f++)
    {
      uint32_t fn;
      uint32_t code;

      snprintf (buf, sizeof buf, "func%u_%u", index, f);
      fn = obj (s_function, str (buf), T | LINGER_OBJ_FUNCTION, 152);
      code = obj (s_code, AT (objs, Obj, fn).name, 0, 200);
      attr (fn, m->dict, a_globals);
      attr (fn, code, a_code);
      attr (fn, strings[below (N_STRINGS)], a_name);
      snprintf (buf, sizeof buf, "'func%u_%u'", index, f);
      key (m->dict, fn, str (buf));
      m->functions[f] = fn;
    }

  m->n_classes = 1 + below (6);
  for (uint32_t c = 0; c < m->n_classes; c++)
    {
      uint32_t cls;
      uint32_t cdict;
      uint32_t method;
      uint32_t code;

      snprintf (buf, sizeof buf, "Class%u", c);
      cls = obj (s_type, str (buf), T | LINGER_OBJ_TYPE, 1064);
      snprintf (buf, sizeof buf, "app.mod%u.Class%u", index, c);
      m->class_names[c] = str (buf);
      cdict = obj (s_dict, 0, T | LINGER_OBJ_DICT, 1176);
      attr (cls, cdict, a_dict);
      mro = obj (s_tuple, 0, T, 56);
      item (mro, cls, 0);
      item (mro, object_class, 1);
      attr (cls, mro, a_mro);
      attr (cls, strings[index % N_STRINGS], a_module);
      snprintf (buf, sizeof buf, "Class%u.on_event", c);
      method = obj (s_function, str (buf), T | LINGER_OBJ_FUNCTION, 152);
      code = obj (s_code, AT (objs, Obj, method).name, 0, 200);
      attr (method, m->dict, a_globals);
      attr (method, code, a_code);
      key (cdict, method, str ("'on_event'"));
      m->methods[c] = method;
      snprintf (buf, sizeof buf, "'Class%u'", c);
      key (m->dict, cls, str (buf));
      m->classes[c] = cls;
    }

  m->registry = obj (s_list, 0, T, 56);
  key (m->dict, m->registry, str ("'REGISTRY'"));
  m->handlers = obj (s_list, 0, T, 56);
  key (m->dict, m->handlers, str ("'HANDLERS'"));
  m->cache = UINT32_MAX;
  if (chance (50))
    {
      m->cache = obj (s_dict, 0, T | LINGER_OBJ_DICT, 232);
      key (m->dict, m->cache, str ("'_cache'"));
    }
  m->weak_cache = UINT32_MAX;
  if (index % 10 == 0)
    {
      m->weak_cache = obj (s_dict, 0, T | LINGER_OBJ_DICT, 232);
      key (m->dict, m->weak_cache, str ("'_instances'"));
    }
}

static void
build_heap (uint32_t n_objects,
            uint32_t n_refs)
{
  char buf[64];
  uint32_t n_modules = n_objects / 5000 < 20 ? 20 : n_objects / 5000;
  uint32_t n_finalizers = n_objects / 500;
  uint32_t n_weakrefs = n_objects / 50;
  /* Objects the finalizers and weak references will need. */
  uint32_t reserve = n_finalizers * 5 + n_weakrefs;
  Module *modules = calloc (n_modules, sizeof (Module));
  Vec instances = VEC (uint32_t);
  uint32_t sys_modules;
  uint32_t registry;
  uint32_t weakref_module;
  uint32_t weakref_dict;
  uint32_t finalize_class;

  s_int = str ("builtins.int");
  s_str = str ("builtins.str");
  s_list = str ("builtins.list");
  s_dict = str ("builtins.dict");
  s_tuple = str ("builtins.tuple");
  s_function = str ("builtins.function");
  s_code = str ("builtins.code");
  s_type = str ("builtins.type");
  s_module = str ("builtins.module");
  s_method = str ("builtins.method");
  s_finalize = str ("weakref.finalize");
  s_info = str ("weakref.finalize._Info");
  s_weakref = str ("weakref.ReferenceType");
  s_none = str ("builtins.NoneType");
  s_bool = str ("builtins.bool");
  a_dict = str ("__dict__");
  a_globals = str ("__globals__");
  a_code = str ("__code__");
  a_name = str ("__name__");
  a_mro = str ("__mro__");
  a_module = str ("__module__");
  a_id = str ("id");
  a_parent = str ("parent");
  a_children = str ("children");
  a_active = str ("active");
  a_owner = str ("owner");
  a_tags = str ("tags");
  a_data = str ("data");
  a_callback = str ("callback");
  a_func = str ("__func__");
  a_self = str ("__self__");
  a_weakref = str ("weakref");
  a_args = str ("args");
  for (uint32_t i = 0; i < 8; i++)
    {
      snprintf (buf, sizeof buf, "extra%u", i);
      a_extra[i] = str (buf);
    }
  {
    static const char * const names[] = { "id", "name", "parent", "children", "active", "owner", "tags", "data" };
    for (uint32_t i = 0; i < 64; i++)
      {
        if (i < 8)
          snprintf (buf, sizeof buf, "'%s'", names[i]);
        else
          snprintf (buf, sizeof buf, "'k%u'", i);
        k_keys[i] = str (buf);
      }
  }
  k_finalize = str ("<finalize>");

  /* Constants and interned strings, shared by everything. */
  none_obj = obj (s_none, 0, 0, 16);
  true_obj = obj (s_bool, 0, 0, 28);
  false_obj = obj (s_bool, 0, 0, 24);
  object_class = obj (s_type, str ("object"), T | LINGER_OBJ_TYPE, 1064);
  for (uint32_t i = 0; i < N_SMALL_INTS; i++)
    small_ints[i] = obj (s_int, 0, 0, 28);
  for (uint32_t i = 0; i < N_STRINGS; i++)
    strings[i] = obj (s_str, 0, 0, 49 + i % 24);

  sys_modules = obj (s_dict, 0, T | LINGER_OBJ_DICT, 36960);
  *(linger_root_entry *) vec_push (&roots) = (linger_root_entry) { sys_modules, LINGER_ROOT_SYS, str ("sys.modules") };

  /* weakref.finalize._registry */
  weakref_module = obj (s_module, str ("weakref"), T | LINGER_OBJ_MODULE, 72);
  weakref_dict = obj (s_dict, 0, T | LINGER_OBJ_DICT, 4696);
  finalize_class = obj (s_type, str ("finalize"), T | LINGER_OBJ_TYPE, 1064);
  registry = obj (s_dict, 0, T | LINGER_OBJ_DICT, 36960);
  attr (weakref_module, weakref_dict, a_dict);
  key (weakref_dict, finalize_class, str ("'finalize'"));
  attr (finalize_class, registry, str ("_registry"));
  key (sys_modules, weakref_module, str ("'weakref'"));
  *(linger_root_entry *) vec_push (&roots) = (linger_root_entry) { weakref_module, LINGER_ROOT_MODULE, str ("weakref") };

  for (uint32_t i = 0; i < n_modules; i++)
    build_module (&modules[i], i, sys_modules);

  /* Trees of instances until the budget is spent; about one tree in 30
   * is garbage: nothing refers to it any more. */
  while (objs.len + reserve < n_objects)
    {
      /* Early modules are the busy ones. */
      double u = (double) below (1u << 20) / (1u << 20);
      Module *m = &modules[(uint32_t) (u * u * n_modules)];
      uint32_t size = 1 + below (40);
      uint32_t tree = new_tree (m, size);

      *(uint32_t *) vec_push (&instances) = tree;
      if (chance (3))
        {
          /* Garbage, sometimes with a bound-method cycle of its own. */
          if (chance (30))
            add_bound_method_cycle (m, tree);
          continue;
        }
      if (chance (2))
        {
          add_bound_method_cycle (m, tree);
          item (m->handlers, tree, m->n_handlers++);
        }
      else if (m->cache != UINT32_MAX && chance (40))
        key (m->cache, tree, k_keys[8 + m->n_cache++ % 56]);
      else
        item (m->registry, tree, m->n_registry++);
      /* A few objects are held by C code as well. */
      if (chance (1))
        AT (objs, Obj, tree).extra++;
    }

  /* weakref.finalize(obj, func, resource): a few pass obj itself. */
  for (uint32_t i = 0; i < n_finalizers; i++)
    {
      Module *m = &modules[below (n_modules)];
      Fin *f = vec_push (&fins);
      uint32_t referent = AT (instances, uint32_t, below ((uint32_t) instances.len));

      f->referent = referent;
      f->fin = obj (s_finalize, 0, T | LINGER_OBJ_FINALIZE, 56);
      f->info = obj (s_info, 0, T, 72);
      f->weakref = obj (s_weakref, 0, T | LINGER_OBJ_WEAKREF, 80);
      f->func = m->functions[below (m->n_functions)];
      f->args = obj (s_tuple, 0, T, 48);
      ref (registry, f->fin, LINGER_LABEL_DICT_KEY, k_finalize, LINGER_REF_STRONG);
      ref (registry, f->info, LINGER_LABEL_KEY, k_finalize, LINGER_REF_STRONG);
      attr (f->info, f->weakref, a_weakref);
      attr (f->info, f->func, a_func);
      attr (f->info, f->args, a_args);
      ref (f->weakref, referent, LINGER_LABEL_REFERENT, 0, LINGER_REF_WEAK);
      if (chance (5))
        item (f->args, referent, 0);
      else
        item (f->args, obj (s_str, 0, 0, 64), 0);
    }

  /* Weak references in WeakValueDictionary-like caches. */
  for (uint32_t i = 0; i < n_weakrefs; i++)
    {
      Module *m = &modules[(below (n_modules) / 10) * 10];
      Weak *wk = vec_push (&weaks);

      wk->referent = AT (instances, uint32_t, below ((uint32_t) instances.len));
      wk->weakref = obj (s_weakref, 0, T | LINGER_OBJ_WEAKREF, 80);
      wk->callback = UINT32_MAX;
      ref (wk->weakref, wk->referent, LINGER_LABEL_REFERENT, 0, LINGER_REF_WEAK);
      if (chance (10))
        {
          wk->callback = m->functions[0];
          ref (wk->weakref, wk->callback, LINGER_LABEL_ATTR, a_callback, LINGER_REF_CALLBACK);
        }
      key (m->weak_cache, wk->weakref, k_keys[8 + m->n_weak++ % 56]);
    }

  /* Up to the reference budget: more attributes holding shared values. */
  while (refs.len < n_refs)
    {
      uint32_t h = below ((uint32_t) holders.len);
      uint32_t holder = AT (holders, uint32_t, h);
      uint32_t k = below (8);

      if (AT (holder_is_dict, uint8_t, h))
        key (holder, pool_value (), k_keys[16 + k]);
      else
        attr (holder, pool_value (), a_extra[k]);
    }

  free (instances.data);
  free (modules);
}

/* --- writing ------------------------------------------------------------- */

static uint64_t *addresses;

/* pymalloc hands out addresses pool by pool: objects made together are
 * near each other, blocks of them are scattered. */
static void
assign_addresses (void)
{
  size_t n = objs.len;
  size_t n_blocks = (n + 15) / 16;
  uint32_t *perm = malloc (sizeof (uint32_t) * n_blocks);

  addresses = malloc (sizeof (uint64_t) * n);
  for (size_t b = 0; b < n_blocks; b++)
    perm[b] = (uint32_t) b;
  for (size_t b = n_blocks; b > 1; b--)
    {
      size_t j = rng () % b;
      uint32_t t = perm[b - 1];
      perm[b - 1] = perm[j];
      perm[j] = t;
    }
  for (size_t i = 0; i < n; i++)
    addresses[i] = 0x7f0000000000ull + ((uint64_t) perm[i / 16] * 16 + i % 16) * 64;
  free (perm);
}

static void
write_snapshot (uint32_t id,
                uint32_t limit,     /* objects with a smaller index */
                Ref     *sorted)
{
  int64_t *refcount = calloc (limit ? limit : 1, sizeof (int64_t));
  linger_rec_snapshot_end end = { .snapshot_id = id, .status = LINGER_SNAPSHOT_OK, .duration_ns = 500000000 };

  linger_writer_snapshot_begin (&w, id, id == 1 && limit < objs.len ? LINGER_SNAPSHOT_INTERVAL : LINGER_SNAPSHOT_AT_EXIT);
  for (size_t i = 0; i < refs.len; i++)
    {
      const Ref *r = &sorted[i];
      if (r->source < limit && r->target < limit && r->ref_kind != LINGER_REF_WEAK)
        refcount[r->target]++;
    }
  for (uint32_t i = 0; i < limit; i++)
    {
      const Obj *o = &AT (objs, Obj, i);
      linger_object_entry e = {
        .address = addresses[i], .size = o->size, .refcount = refcount[i] + o->extra,
        .type_name = o->type, .flags = o->flags, .name = o->name,
      };
      linger_writer_object (&w, &e);
      end.n_objects++;
    }
  for (size_t i = 0; i < refs.len; i++)
    {
      const Ref *r = &sorted[i];
      linger_ref_entry e;

      if (r->source >= limit || r->target >= limit)
        continue;
      e = (linger_ref_entry) { addresses[r->source], addresses[r->target], r->label, r->label_kind, r->ref_kind };
      linger_writer_ref (&w, &e);
      end.n_refs++;
    }
  for (size_t i = 0; i < roots.len; i++)
    {
      linger_root_entry e = AT (roots, linger_root_entry, i);

      if (e.address >= limit)
        continue;
      e.address = addresses[e.address];
      linger_writer_root (&w, &e);
      end.n_roots++;
    }
  for (size_t i = 0; i < fins.len; i++)
    {
      const Fin *f = &AT (fins, Fin, i);
      linger_finalizer_entry e;

      if (f->args >= limit)
        continue;
      e = (linger_finalizer_entry) {
        .finalizer = addresses[f->fin], .info = addresses[f->info], .weakref = addresses[f->weakref],
        .referent = addresses[f->referent], .func = addresses[f->func], .args = addresses[f->args],
        .index = i, .flags = LINGER_FINALIZER_ATEXIT,
      };
      linger_writer_finalizer (&w, &e);
    }
  for (size_t i = 0; i < weaks.len; i++)
    {
      const Weak *k = &AT (weaks, Weak, i);
      linger_weakref_entry e;

      if (k->weakref >= limit)
        continue;
      e = (linger_weakref_entry) {
        .weakref = addresses[k->weakref], .referent = addresses[k->referent],
        .callback = k->callback != UINT32_MAX ? addresses[k->callback] : 0,
        .kind = LINGER_WEAKREF_REF,
      };
      linger_writer_weakref (&w, &e);
    }
  linger_writer_snapshot_end (&w, &end);
  free (refcount);
}

static void
usage (void)
{
  fprintf (stderr, "usage: linger-bench-trace [--objects N] [--refs R] [--seed S] [--snapshots 1|2] OUTPUT\n");
  exit (2);
}

int
main (int    argc,
      char **argv)
{
  uint32_t n_objects = 1000000;
  uint32_t n_refs = 0;
  uint32_t n_snapshots = 1;
  const char *output = NULL;
  Ref *sorted;
  size_t *start;
  int fd;
  static const char cmdline[] = "python3\0service.py\0";

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--objects") == 0 && i + 1 < argc)
        n_objects = (uint32_t) strtoul (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--refs") == 0 && i + 1 < argc)
        n_refs = (uint32_t) strtoul (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--seed") == 0 && i + 1 < argc)
        rng_state ^= strtoull (argv[++i], NULL, 10) * 0x9e3779b97f4a7c15ull;
      else if (strcmp (argv[i], "--snapshots") == 0 && i + 1 < argc)
        n_snapshots = (uint32_t) strtoul (argv[++i], NULL, 10);
      else if (argv[i][0] == '-' || output != NULL)
        usage ();
      else
        output = argv[i];
    }
  if (output == NULL || n_objects < 10000 || n_snapshots < 1 || n_snapshots > 2)
    usage ();
  if (n_refs == 0)
    n_refs = 3 * n_objects;

  fd = open (output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || !linger_writer_init (&w, fd, 0))
    {
      perror (output);
      return 1;
    }
  linger_writer_process (&w, 4242, 1, "/usr/bin/python3.11", cmdline, sizeof cmdline - 1, "python3");
  linger_writer_runtime (&w, 0x030b02f0, LINGER_RUNTIME_LAYOUT_KNOWN | LINGER_RUNTIME_SHARED_LIBPYTHON, "3.11.2");

  build_heap (n_objects, n_refs);
  assign_addresses ();

  /* The shim writes an object's references together, in traversal order:
   * a stable counting sort by source. */
  sorted = malloc (sizeof (Ref) * (refs.len ? refs.len : 1));
  start = calloc (objs.len + 1, sizeof (size_t));
  for (size_t i = 0; i < refs.len; i++)
    start[AT (refs, Ref, i).source + 1]++;
  for (size_t v = 0; v < objs.len; v++)
    start[v + 1] += start[v];
  for (size_t i = 0; i < refs.len; i++)
    sorted[start[AT (refs, Ref, i).source]++] = AT (refs, Ref, i);
  free (start);

  if (n_snapshots == 2)
    write_snapshot (1, (uint32_t) (objs.len / 4 * 3), sorted);
  write_snapshot (n_snapshots, (uint32_t) objs.len, sorted);
  linger_writer_end (&w, LINGER_EXIT_NORMAL);
  if (w.failed)
    {
      fprintf (stderr, "%s: write failed\n", output);
      return 1;
    }
  linger_writer_close (&w);
  printf ("%zu objects, %zu references, %zu finalizers, %zu weak references\n",
          objs.len, refs.len, fins.len, weaks.len);
  free (sorted);
  free (addresses);
  return 0;
}
