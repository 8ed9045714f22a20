/* linger_snapshot.c: walks the Python heap and writes it as a graph.
 *
 * Order of work, and why:
 *  1. Everything that may create or free objects happens first: thread
 *     frames and their locals, gc.get_objects(), gc.garbage.  After this
 *     point nothing is freed until the walk ends, so the borrowed pointers
 *     the walk follows stay valid.
 *  2. The walk: every object of the gc list, then depth-first every
 *     untracked or non-GC object they reference.  Referents come from
 *     tp_traverse (the ground truth the cyclic GC uses); labels come from
 *     layouts we know (dict items, list indexes, member descriptors,
 *     instance attributes, closures, frame locals) and are matched to the
 *     traversed referents.  A referent without a label is still written.
 *  3. The weakref.finalize registry, read without calling into Python.
 */
#include "linger_snapshot.h"

#include "linger_pyalloc.h"
#include "linger_output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linger_ptrmap.h"
#include "linger_py_layout.h"
#include "linger_pyapi.h"

/* Bits of the `seen` map values. */
enum
{
  SEEN_QUEUED  = 1u << 0, /* recorded or waiting on the stack */
  SEEN_IN_LIST = 1u << 1, /* the gc list holds one reference */
  SEEN_IGNORE  = 1u << 2, /* the snapshot's own temporary */
  SEEN_GARBAGE = 1u << 3, /* in gc.garbage */
  SEEN_HELD_SHIFT = 4,    /* references the snapshot holds, above this */
};

typedef enum
{
  KIND_OTHER = 0,
  KIND_DICT,
  KIND_LIST,
  KIND_TUPLE,
  KIND_SET,
  KIND_FUNCTION,
  KIND_METHOD,
  KIND_CELL,
  KIND_TYPE,
  KIND_MODULE,
  KIND_FRAME,
  KIND_CODE,
  KIND_CFUNCTION,
  KIND_WEAKREF,
  KIND_PROXY,
} object_kind;

typedef struct
{
  intptr_t offset;
  uint32_t name;
} member_slot;

typedef struct
{
  lpy_object *type;
  uint32_t    full_name;   /* "module.QualName" */
  uint32_t    qualname;    /* "QualName", used when the type is the object */
  uint32_t    flags;       /* LINGER_OBJ_* shared by every instance */
  uint8_t     kind;
  uint8_t     weakref_kind;
  bool        sizeof_callable;
  uint32_t    members_start;
  uint32_t    n_members;
} type_info;

typedef struct
{
  lpy_object *target;
  uint32_t    label;
  uint16_t    label_kind;
  uint16_t    ref_kind;
  bool        used;
  bool        extra;       /* not an owned reference tp_traverse reports */
} candidate;

typedef struct
{
  lpy_object *frame;
  lpy_object *locals;      /* dict, or a list of (name, value) pairs */
} frame_locals;

#define VEC(T) struct { T *items; size_t len, cap; }

typedef struct
{
  linger_writer *w;
  bool           objects_only; /* LINGER_SNAPSHOT_OBJECTS_ONLY: the list, no walk */
  bool           failed;
  const char    *why;

  linger_ptrmap seen;
  linger_ptrmap type_index;  /* type -> index + 1 in types */
  linger_ptrmap str_ids;     /* str object still alive -> id of its text */
  linger_ptrmap key_ids;     /* dict key still alive -> id of 'text' / 42 / <T> */
  linger_ptrmap closures;    /* closure tuple -> index + 1 in closure_codes */
  linger_ptrmap frame_index; /* frame -> index + 1 in frames */
  /* --redact-keys: the __dict__ of instances, classes and modules, whose
   * keys are attribute names (code, kept); other dicts' keys are data. */
  bool          redact;
  linger_ptrmap attr_dicts;

  VEC (type_info *) types;  /* stable pointers: callers keep them */
  VEC (member_slot) members;
  VEC (lpy_object *) stack;
  VEC (candidate) cands;
  /* For objects with many candidates: target -> head of a queue of
   * unused candidates (index + 1), chained through cand_next. */
  linger_ptrmap cand_index;
  VEC (uint32_t) cand_next;
  bool cand_indexed;
  VEC (lpy_object *) targets;
  VEC (lpy_object *) held;   /* strong references to drop at the end */
  VEC (lpy_object *) closure_codes;
  VEC (frame_locals) frames;
  VEC (linger_atexit_entry) atexits;

  lpy_object *s_sizeof, *s_del;
  lpy_object *weakmethod_type, *finalize_type, *partial_type;
  uint32_t    id_dict, id_bases, id_callback, id_cell_contents, id_self, id_code,
              id_defaults, id_kwdefaults, id_annotations, id_closure;

  uint64_t n_objects, n_refs, n_roots;
} snap;

#define VEC_PUSH(s, v, x)                                                   \
  do                                                                        \
    {                                                                       \
      if ((v).len == (v).cap)                                               \
        {                                                                   \
          size_t cap_ = (v).cap ? (v).cap * 2 : 64;                         \
          void *p_ = realloc ((v).items, cap_ * sizeof *(v).items);         \
          if (p_ == NULL)                                                   \
            {                                                               \
              (s)->failed = true;                                           \
              (s)->why = "out of memory";                                   \
              break;                                                        \
            }                                                               \
          (v).items = p_;                                                   \
          (v).cap = cap_;                                                   \
        }                                                                   \
      (v).items[(v).len++] = (x);                                           \
    }                                                                       \
  while (0)

/* ------------------------------------------------------------------ */
/* Strings */

static uint32_t
intern_text (snap *s, const char *text, size_t len)
{
  return linger_writer_intern (s->w, text, len);
}

static uint32_t
intern_cstr (snap *s, const char *text)
{
  return linger_writer_intern_cstr (s->w, text ? text : "");
}

/* UTF-8 of a str without running code; NULL for other objects. */
static const char *
str_utf8 (lpy_object *o, ssize_t *len)
{
  if (o == NULL || !lpy_is_instance (o, lpy.PyUnicode_Type))
    return NULL;
  const char *u = lpy.PyUnicode_AsUTF8AndSize (o, len);
  if (u == NULL)
    lpy.PyErr_Clear (); /* lone surrogates */
  return u;
}

/* Interns a str that stays alive for the whole walk, caching by address. */
static uint32_t
intern_live_str (snap *s, lpy_object *o)
{
  bool inserted;
  uint32_t *slot = linger_ptrmap_upsert (&s->str_ids, (uintptr_t) o, &inserted);
  if (slot != NULL && !inserted)
    return *slot;
  ssize_t len = 0;
  const char *u = str_utf8 (o, &len);
  uint32_t id = u ? intern_text (s, u, (size_t) len) : intern_cstr (s, "?");
  if (slot != NULL)
    *slot = id;
  return id;
}

/* Interns a temporary str (we hold the only reference) and drops it. */
static uint32_t
intern_temp_str (snap *s, lpy_object *o)
{
  if (o == NULL)
    {
      lpy.PyErr_Clear ();
      return LINGER_STRING_NONE;
    }
  ssize_t len = 0;
  const char *u = str_utf8 (o, &len);
  uint32_t id = u ? intern_text (s, u, (size_t) len) : LINGER_STRING_NONE;
  lpy.Py_DecRef (o);
  return id;
}

#define KEY_TEXT_MAX 60

/* A dict key as a reader would write it: 'text', 42, True, None, <Type>. */
static uint32_t
key_text (snap *s, lpy_object *key, bool redact)
{
  if (redact)
    {
      /* The key's type only: <str>, <int>, <bytes>, <tuple>, ... */
      char tbuf[48];
      const char *name = LPY_TP_NAME (lpy_type (key));
      const char *dot = strrchr (name, '.');
      snprintf (tbuf, sizeof tbuf, "<%.40s>", dot ? dot + 1 : name);
      return intern_cstr (s, tbuf);
    }
  bool inserted;
  uint32_t *slot = linger_ptrmap_upsert (&s->key_ids, (uintptr_t) key, &inserted);
  if (slot != NULL && !inserted)
    return *slot;

  char buf[KEY_TEXT_MAX + 16];
  lpy_object *t = lpy_type (key);
  ssize_t len;
  const char *u;
  if ((u = str_utf8 (key, &len)) != NULL)
    {
      size_t n = 0;
      buf[n++] = '\'';
      for (ssize_t i = 0; i < len && n < KEY_TEXT_MAX; i++)
        {
          unsigned char c = (unsigned char) u[i];
          buf[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char) c;
        }
      if (len > (ssize_t) (n - 1))
        {
          /* Cut on a character boundary, then mark the cut. */
          while (n > 1 && ((unsigned char) buf[n - 1] & 0xC0) == 0x80)
            n--;
          if (n > 1 && ((unsigned char) buf[n - 1] & 0x80))
            n--;
          memcpy (buf + n, "...", 3);
          n += 3;
        }
      buf[n++] = '\'';
      buf[n] = '\0';
    }
  else if (t == lpy.PyLong_Type)
    {
      int overflow = 0;
      long long v = lpy.PyLong_AsLongLongAndOverflow (key, &overflow);
      if (overflow || (v == -1 && lpy.PyErr_Occurred ()))
        {
          lpy.PyErr_Clear ();
          snprintf (buf, sizeof buf, "<int>");
        }
      else
        snprintf (buf, sizeof buf, "%lld", v);
    }
  else if (t == lpy.PyBool_Type)
    snprintf (buf, sizeof buf, "%s", key == lpy._Py_TrueStruct ? "True" : "False");
  else if (key == lpy._Py_NoneStruct)
    snprintf (buf, sizeof buf, "None");
  else
    {
      const char *name = LPY_TP_NAME (t);
      const char *dot = strrchr (name, '.');
      snprintf (buf, sizeof buf, "<%.40s>", dot ? dot + 1 : name);
    }
  uint32_t id = intern_cstr (s, buf);
  if (slot != NULL)
    *slot = id;
  return id;
}

/* ------------------------------------------------------------------ */
/* Type information, computed once per type */

static lpy_object *
type_dict (lpy_object *tp, bool *owned)
{
  *owned = false;
  if (lpy.PyType_GetDict != NULL && !(LPY_TP_FLAGS (tp) & LPY_TPFLAGS_HEAPTYPE))
    {
      /* 3.12+: static builtin types keep their dict in interpreter state. */
      lpy_object *d = lpy.PyType_GetDict (tp);
      if (d == NULL)
        lpy.PyErr_Clear ();
      *owned = d != NULL;
      return d;
    }
  return LPY_TP_DICT (tp);
}

static void
type_collect_members (snap *s, type_info *ti, lpy_object *tp)
{
  ti->members_start = (uint32_t) s->members.len;
  lpy_object *mro = LPY_TP_MRO (tp);
  if (mro == NULL || !lpy_is_instance (mro, lpy.PyTuple_Type))
    return;
  intptr_t basicsize = LPY_TP_BASICSIZE (tp);
  ssize_t n = lpy.PyTuple_Size (mro);
  for (ssize_t i = 0; i < n; i++)
    {
      lpy_object *base = lpy.PyTuple_GetItem (mro, i);
      if (base == NULL)
        {
          lpy.PyErr_Clear ();
          continue;
        }
      bool owned;
      lpy_object *d = type_dict (base, &owned);
      if (d == NULL)
        continue;
      ssize_t pos = 0;
      lpy_object *k, *v;
      while (lpy.PyDict_Next (d, &pos, &k, &v))
        {
          if (lpy_type (v) != lpy.PyMemberDescr_Type)
            continue;
          const struct lpy_member_def *def = LPY_MEMBERDESCR_DEF (v);
          if (def == NULL || (def->type != LPY_T_OBJECT && def->type != LPY_T_OBJECT_EX))
            continue;
          if (def->offset < 16 || def->offset + 8 > basicsize)
            continue;
          bool dup = false;
          for (size_t j = ti->members_start; j < s->members.len; j++)
            dup |= s->members.items[j].offset == def->offset;
          if (dup)
            continue;
          member_slot m = { .offset = def->offset, .name = intern_cstr (s, def->name) };
          VEC_PUSH (s, s->members, m);
        }
      if (owned)
        lpy.Py_DecRef (d);
    }
  ti->n_members = (uint32_t) (s->members.len - ti->members_start);
}

static void
type_names (snap *s, type_info *ti, lpy_object *tp)
{
  char buf[512];
  const char *tp_name = LPY_TP_NAME (tp);
  if (LPY_TP_FLAGS (tp) & LPY_TPFLAGS_HEAPTYPE)
    {
      const linger_py_layout *l = linger_py_layout_get ();
      lpy_object *qual = l ? LPY_FIELD (tp, l->ht_qualname, lpy_object *) : NULL;
      ssize_t qlen = 0, mlen = 0;
      const char *q = str_utf8 (qual, &qlen);
      lpy_object *d = LPY_TP_DICT (tp);
      lpy_object *mod = d ? lpy.PyDict_GetItemString (d, "__module__") : NULL;
      const char *m = str_utf8 (mod, &mlen);
      if (q == NULL)
        {
          q = tp_name;
          qlen = (ssize_t) strlen (tp_name);
        }
      if (m == NULL)
        {
          m = "builtins";
          mlen = 8;
        }
      snprintf (buf, sizeof buf, "%.*s.%.*s", (int) mlen, m, (int) qlen, q);
      ti->full_name = intern_cstr (s, buf);
      ti->qualname = intern_text (s, q, (size_t) qlen);
    }
  else
    {
      const char *dot = strrchr (tp_name, '.');
      if (dot != NULL)
        {
          ti->full_name = intern_cstr (s, tp_name);
          ti->qualname = intern_cstr (s, dot + 1);
        }
      else
        {
          snprintf (buf, sizeof buf, "builtins.%s", tp_name);
          ti->full_name = intern_cstr (s, buf);
          ti->qualname = intern_cstr (s, tp_name);
        }
    }
}

static type_info *
type_info_get (snap *s, lpy_object *tp)
{
  bool inserted;
  uint32_t *slot = linger_ptrmap_upsert (&s->type_index, (uintptr_t) tp, &inserted);
  if (slot == NULL)
    {
      s->failed = true;
      s->why = "out of memory";
      return NULL;
    }
  if (!inserted)
    return *slot ? s->types.items[*slot - 1] : NULL;

  type_info *tip = calloc (1, sizeof *tip);
  if (tip == NULL)
    {
      s->failed = true;
      s->why = "out of memory";
      return NULL;
    }
  VEC_PUSH (s, s->types, tip);
  if (s->failed)
    {
      free (tip);
      return NULL;
    }
  *slot = (uint32_t) s->types.len;
  type_info ti;
  memset (&ti, 0, sizeof ti);
  ti.type = tp;
  type_names (s, &ti, tp);

  unsigned long tpflags = LPY_TP_FLAGS (tp);
  if (lpy_is_instance_type (tp, lpy.PyDict_Type))
    ti.kind = KIND_DICT, ti.flags |= LINGER_OBJ_DICT;
  else if (lpy_is_instance_type (tp, lpy.PyList_Type))
    ti.kind = KIND_LIST;
  else if (lpy_is_instance_type (tp, lpy.PyTuple_Type))
    ti.kind = KIND_TUPLE;
  else if (lpy_is_instance_type (tp, lpy.PySet_Type) || lpy_is_instance_type (tp, lpy.PyFrozenSet_Type))
    ti.kind = KIND_SET;
  else if (tp == lpy.PyFunction_Type)
    ti.kind = KIND_FUNCTION, ti.flags |= LINGER_OBJ_FUNCTION;
  else if (tp == lpy.PyMethod_Type)
    ti.kind = KIND_METHOD, ti.flags |= LINGER_OBJ_METHOD;
  else if (tp == lpy.PyCell_Type)
    ti.kind = KIND_CELL, ti.flags |= LINGER_OBJ_CELL;
  else if (tpflags & LPY_TPFLAGS_TYPE_SUBCLASS)
    ti.kind = KIND_TYPE, ti.flags |= LINGER_OBJ_TYPE;
  else if (lpy_is_instance_type (tp, lpy.PyModule_Type))
    ti.kind = KIND_MODULE, ti.flags |= LINGER_OBJ_MODULE;
  else if (tp == lpy.PyFrame_Type)
    ti.kind = KIND_FRAME, ti.flags |= LINGER_OBJ_FRAME;
  else if (tp == lpy.PyCode_Type)
    ti.kind = KIND_CODE;
  else if (lpy_is_instance_type (tp, lpy.PyCFunction_Type))
    ti.kind = KIND_CFUNCTION, ti.flags |= LINGER_OBJ_BUILTIN_METHOD;
  else if (lpy_is_instance_type (tp, lpy._PyWeakref_RefType))
    {
      ti.kind = KIND_WEAKREF;
      ti.flags |= LINGER_OBJ_WEAKREF;
      ti.weakref_kind = LINGER_WEAKREF_REF;
      if (s->weakmethod_type && lpy_is_instance_type (tp, s->weakmethod_type))
        {
          ti.flags |= LINGER_OBJ_WEAKMETHOD;
          ti.weakref_kind = LINGER_WEAKREF_METHOD;
        }
    }
  else if (tp == lpy._PyWeakref_ProxyType || tp == lpy._PyWeakref_CallableProxyType)
    {
      ti.kind = KIND_PROXY;
      ti.flags |= LINGER_OBJ_PROXY;
      ti.weakref_kind = tp == lpy._PyWeakref_ProxyType ? LINGER_WEAKREF_PROXY
                                                       : LINGER_WEAKREF_CALLABLE_PROXY;
    }
  if (s->finalize_type && lpy_is_instance_type (tp, s->finalize_type))
    ti.flags |= LINGER_OBJ_FINALIZE;
  if (s->partial_type && lpy_is_instance_type (tp, s->partial_type))
    ti.flags |= LINGER_OBJ_PARTIAL;
  if (tpflags & LPY_TPFLAGS_HAVE_GC)
    ti.flags |= LINGER_OBJ_GC_TYPE;

  /* Only a C-implemented __sizeof__ is called: a Python one is user code. */
  lpy_object *descr = lpy._PyType_Lookup (tp, s->s_sizeof);
  ti.sizeof_callable = descr != NULL
                       && (lpy_type (descr) == lpy.PyMethodDescr_Type
                           || lpy_type (descr) == lpy.PyWrapperDescr_Type);
  if ((tpflags & LPY_TPFLAGS_HEAPTYPE) && lpy._PyType_Lookup (tp, s->s_del) != NULL)
    ti.flags |= LINGER_OBJ_HAS_DEL;

  type_collect_members (s, &ti, tp);
  *tip = ti;
  return tip;
}

/* ------------------------------------------------------------------ */
/* Candidate labels */

static void
cand_add (snap *s, lpy_object *target, uint16_t label_kind, uint32_t label, uint16_t ref_kind, bool extra)
{
  if (target == NULL)
    return;
  candidate c = {
    .target = target, .label = label, .label_kind = label_kind,
    .ref_kind = ref_kind, .used = false, .extra = extra,
  };
  VEC_PUSH (s, s->cands, c);
}

static void
managed_attr_cb (lpy_object *name, lpy_object *value, void *data)
{
  snap *s = data;
  cand_add (s, value, LINGER_LABEL_ATTR, intern_live_str (s, name), LINGER_REF_STRONG, false);
}

/* A dict is usually processed after the object whose __dict__ it is (the
 * walk goes through the owner); one reached first some other way keeps
 * its keys redacted, which errs on the side of the program's secrets. */
static void
mark_attr_dict (snap *s, lpy_object *d)
{
  if (!s->redact || d == NULL)
    return;
  bool inserted;
  (void) linger_ptrmap_upsert (&s->attr_dicts, (uintptr_t) d, &inserted);
}

static void
collect_dict_candidates (snap *s, lpy_object *d)
{
  ssize_t pos = 0;
  lpy_object *k, *v;
  bool redact = s->redact && linger_ptrmap_lookup (&s->attr_dicts, (uintptr_t) d) == NULL;
  while (lpy.PyDict_Next (d, &pos, &k, &v))
    {
      uint32_t text = key_text (s, k, redact);
      /* str keys cannot hold references: only other keys are edges. */
      if (lpy_type (k) != lpy.PyUnicode_Type)
        cand_add (s, k, LINGER_LABEL_DICT_KEY, text, LINGER_REF_STRONG, false);
      cand_add (s, v, LINGER_LABEL_KEY, text, LINGER_REF_STRONG, false);
    }
}

static void
collect_sequence_candidates (snap *s, lpy_object *o, bool is_list, lpy_object *names)
{
  ssize_t n = is_list ? lpy.PyList_Size (o) : lpy.PyTuple_Size (o);
  ssize_t n_names = names ? lpy.PyTuple_Size (names) : 0;
  for (ssize_t i = 0; i < n; i++)
    {
      lpy_object *item = is_list ? lpy.PyList_GetItem (o, i) : lpy.PyTuple_GetItem (o, i);
      if (item == NULL)
        {
          lpy.PyErr_Clear ();
          continue;
        }
      if (i < n_names)
        cand_add (s, item, LINGER_LABEL_CLOSURE,
                  intern_live_str (s, lpy.PyTuple_GetItem (names, i)), LINGER_REF_STRONG, false);
      else
        cand_add (s, item, LINGER_LABEL_INDEX, (uint32_t) i, LINGER_REF_STRONG, false);
    }
}

static void
collect_frame_candidates (snap *s, lpy_object *frame)
{
  uint32_t *idx = linger_ptrmap_lookup (&s->frame_index, (uintptr_t) frame);
  if (idx == NULL)
    return;
  lpy_object *locals = s->frames.items[*idx - 1].locals;
  /* On 3.11+ the locals of a running frame live in the thread's data
   * stack, which tp_traverse of the frame object does not report: the
   * edges are added so the thread's frame reaches what it holds. */
  bool extra = lpy.minor >= 11;
  if (lpy_is_instance (locals, lpy.PyDict_Type))
    {
      ssize_t pos = 0;
      lpy_object *k, *v;
      while (lpy.PyDict_Next (locals, &pos, &k, &v))
        cand_add (s, v, LINGER_LABEL_LOCAL, intern_live_str (s, k), LINGER_REF_STRONG, extra);
    }
  else if (lpy_is_instance (locals, lpy.PyList_Type))
    {
      ssize_t n = lpy.PyList_Size (locals);
      for (ssize_t i = 0; i < n; i++)
        {
          lpy_object *pair = lpy.PyList_GetItem (locals, i);
          if (pair == NULL || !lpy_is_instance (pair, lpy.PyTuple_Type) || lpy.PyTuple_Size (pair) != 2)
            continue;
          cand_add (s, lpy.PyTuple_GetItem (pair, 1), LINGER_LABEL_LOCAL,
                    intern_live_str (s, lpy.PyTuple_GetItem (pair, 0)), LINGER_REF_STRONG, extra);
        }
    }
  lpy.PyErr_Clear ();
}

static void
collect_candidates (snap *s, lpy_object *obj, type_info *ti)
{
  s->cands.len = 0;

  for (uint32_t i = 0; i < ti->n_members; i++)
    {
      member_slot *m = &s->members.items[ti->members_start + i];
      lpy_object *target = LPY_FIELD (obj, m->offset, lpy_object *);
      uint16_t ref_kind = LINGER_REF_STRONG;
      if (ti->kind == KIND_WEAKREF && m->offset == 24)
        ref_kind = LINGER_REF_CALLBACK;
      cand_add (s, target, LINGER_LABEL_ATTR, m->name, ref_kind, false);
    }

  switch ((object_kind) ti->kind)
    {
    case KIND_DICT:
      collect_dict_candidates (s, obj);
      break;
    case KIND_LIST:
      collect_sequence_candidates (s, obj, true, NULL);
      break;
    case KIND_TUPLE:
      {
        uint32_t *ci = linger_ptrmap_lookup (&s->closures, (uintptr_t) obj);
        lpy_object *names = NULL;
        if (ci != NULL)
          {
            names = lpy.PyObject_GetAttrString (s->closure_codes.items[*ci - 1], "co_freevars");
            if (names != NULL && !lpy_is_instance (names, lpy.PyTuple_Type))
              {
                lpy.Py_DecRef (names);
                names = NULL;
              }
            lpy.PyErr_Clear ();
          }
        collect_sequence_candidates (s, obj, false, names);
        if (names != NULL)
          lpy.Py_DecRef (names);
        break;
      }
    case KIND_FUNCTION:
      cand_add (s, lpy.PyFunction_GetCode (obj), LINGER_LABEL_ATTR, s->id_code, LINGER_REF_STRONG, false);
      cand_add (s, lpy.PyFunction_GetDefaults (obj), LINGER_LABEL_ATTR, s->id_defaults, LINGER_REF_STRONG, false);
      cand_add (s, lpy.PyFunction_GetKwDefaults (obj), LINGER_LABEL_ATTR, s->id_kwdefaults, LINGER_REF_STRONG, false);
      cand_add (s, lpy.PyFunction_GetAnnotations (obj), LINGER_LABEL_ATTR, s->id_annotations, LINGER_REF_STRONG, false);
      cand_add (s, lpy.PyFunction_GetClosure (obj), LINGER_LABEL_ATTR, s->id_closure, LINGER_REF_STRONG, false);
      break;
    case KIND_CELL:
      cand_add (s, LPY_CELL_REF (obj), LINGER_LABEL_ATTR, s->id_cell_contents, LINGER_REF_STRONG, false);
      break;
    case KIND_CFUNCTION:
      cand_add (s, LPY_CFUNC_SELF (obj), LINGER_LABEL_ATTR, s->id_self, LINGER_REF_STRONG, false);
      break;
    case KIND_TYPE:
      if (LPY_TP_FLAGS (obj) & LPY_TPFLAGS_HEAPTYPE)
        {
          cand_add (s, LPY_TP_DICT (obj), LINGER_LABEL_ATTR, s->id_dict, LINGER_REF_STRONG, false);
          mark_attr_dict (s, LPY_TP_DICT (obj));
          cand_add (s, LPY_TP_BASES (obj), LINGER_LABEL_ATTR, s->id_bases, LINGER_REF_STRONG, false);
        }
      break;
    case KIND_FRAME:
      collect_frame_candidates (s, obj);
      break;
    case KIND_WEAKREF:
    case KIND_PROXY:
      {
        lpy_object *referent = LPY_WR_OBJECT (obj);
        if (referent != NULL && referent != lpy._Py_NoneStruct && lpy_refcnt (referent) > 0)
          cand_add (s, referent, LINGER_LABEL_REFERENT, 0, LINGER_REF_WEAK, true);
        if (ti->kind == KIND_PROXY)
          cand_add (s, LPY_WR_CALLBACK (obj), LINGER_LABEL_ATTR, s->id_callback, LINGER_REF_CALLBACK, false);
        break;
      }
    default:
      break;
    }

  /* Instance attributes: a materialised __dict__, or (3.11+) values kept
   * beside the object that only the per-version layout can name. */
  if (ti->kind != KIND_TYPE)
    {
      lpy_object *d = linger_py_layout_instance_dict (obj);
      if (d != NULL)
        {
          cand_add (s, d, LINGER_LABEL_ATTR, s->id_dict, LINGER_REF_STRONG, false);
          mark_attr_dict (s, d);
        }
      else
        linger_py_layout_managed_attrs (obj, managed_attr_cb, s);
    }
}

/* ------------------------------------------------------------------ */
/* The walk */

static int
visit_collect (lpy_object *target, void *arg)
{
  snap *s = arg;
  if (target != NULL)
    VEC_PUSH (s, s->targets, target);
  return 0;
}

static void
queue (snap *s, lpy_object *o)
{
  /* Some tp_traverse visit dead objects kept on a freelist (3.12's
   * _asyncio module visits its FutureIter freelist).  Their refcount is 0;
   * anything that increfs and decrefs them (a bound __sizeof__) would
   * deallocate them a second time and corrupt the freelist.  They are not
   * objects of the program: leave them alone. */
  if (lpy_refcnt (o) <= 0)
    return;
  bool inserted;
  uint32_t *v = linger_ptrmap_upsert (&s->seen, (uintptr_t) o, &inserted);
  if (v == NULL)
    {
      s->failed = true;
      s->why = "out of memory";
      return;
    }
  if (*v & (SEEN_QUEUED | SEEN_IGNORE))
    return;
  *v |= SEEN_QUEUED;
  VEC_PUSH (s, s->stack, o);
}

/* Small objects are matched by a scan.  Large containers are indexed:
 * list_traverse and tuple_traverse visit items last to first, dicts first
 * to last, so no cursor order fits them all and a scan would be quadratic. */
#define CAND_INDEX_THRESHOLD 32

static void
index_candidates (snap *s)
{
  s->cand_indexed = false;
  if (s->cands.len <= CAND_INDEX_THRESHOLD)
    return;
  linger_ptrmap_clear (&s->cand_index);
  if (!linger_ptrmap_init (&s->cand_index, s->cands.len))
    return;
  s->cand_next.len = 0;
  for (size_t i = 0; i < s->cands.len; i++)
    VEC_PUSH (s, s->cand_next, 0);
  if (s->failed)
    return;
  /* Built back to front so each queue pops in collection order. */
  for (size_t i = s->cands.len; i > 0; i--)
    {
      candidate *c = &s->cands.items[i - 1];
      if (c->extra)
        continue;
      bool inserted;
      uint32_t *head = linger_ptrmap_upsert (&s->cand_index, (uintptr_t) c->target, &inserted);
      if (head == NULL)
        return;
      s->cand_next.items[i - 1] = *head;
      *head = (uint32_t) i;
    }
  s->cand_indexed = true;
}

static candidate *
match_candidate (snap *s, lpy_object *target)
{
  if (s->cand_indexed)
    {
      uint32_t *head = linger_ptrmap_lookup (&s->cand_index, (uintptr_t) target);
      if (head == NULL || *head == 0)
        return NULL;
      uint32_t i = *head;
      *head = s->cand_next.items[i - 1];
      return &s->cands.items[i - 1];
    }
  for (size_t i = 0; i < s->cands.len; i++)
    {
      candidate *c = &s->cands.items[i];
      if (!c->used && !c->extra && c->target == target)
        return c;
    }
  return NULL;
}

static void
emit_ref (snap *s, lpy_object *src, lpy_object *dst, uint16_t label_kind, uint32_t label, uint16_t ref_kind)
{
  if (lpy_refcnt (dst) <= 0)
    return; /* a dead object on a freelist: see queue() */
  linger_ref_entry e = {
    .source = (uint64_t) (uintptr_t) src,
    .target = (uint64_t) (uintptr_t) dst,
    .label = label,
    .label_kind = label_kind,
    .ref_kind = ref_kind,
  };
  linger_writer_ref (s->w, &e);
  s->n_refs++;
  queue (s, dst);
}

static uint32_t
object_name (snap *s, lpy_object *obj, type_info *ti)
{
  switch ((object_kind) ti->kind)
    {
    case KIND_FUNCTION:
      return intern_temp_str (s, lpy.PyObject_GetAttrString (obj, "__qualname__"));
    case KIND_METHOD:
      {
        lpy_object *func = LPY_METHOD_FUNC (obj);
        if (func != NULL && lpy_type (func) == lpy.PyFunction_Type)
          return intern_temp_str (s, lpy.PyObject_GetAttrString (func, "__qualname__"));
        return LINGER_STRING_NONE;
      }
    case KIND_CODE:
      return intern_temp_str (s, lpy.PyObject_GetAttrString (obj, lpy.minor >= 11 ? "co_qualname" : "co_name"));
    case KIND_TYPE:
      {
        type_info *self = type_info_get (s, obj);
        return self ? self->qualname : LINGER_STRING_NONE;
      }
    case KIND_MODULE:
      {
        lpy_object *d = LPY_FIELD (obj, 16, lpy_object *); /* md_dict */
        lpy_object *name = (d && lpy_is_instance (d, lpy.PyDict_Type))
                             ? lpy.PyDict_GetItemString (d, "__name__") : NULL;
        return name ? intern_live_str (s, name) : LINGER_STRING_NONE;
      }
    case KIND_CFUNCTION:
      {
        const char *const *ml = LPY_FIELD (obj, 16, const char *const *); /* m_ml->ml_name */
        return (ml && *ml) ? intern_cstr (s, *ml) : LINGER_STRING_NONE;
      }
    default:
      return LINGER_STRING_NONE;
    }
}

static uint64_t
object_size (lpy_object *obj, type_info *ti, bool *estimated)
{
  *estimated = false;
  if (ti->sizeof_callable)
    {
      size_t n = lpy._PySys_GetSizeOf (obj);
      if (n != (size_t) -1)
        return n;
      lpy.PyErr_Clear ();
    }
  *estimated = true;
  lpy_object *tp = ti->type;
  intptr_t size = LPY_TP_BASICSIZE (tp);
  intptr_t item = LPY_TP_ITEMSIZE (tp);
  if (item > 0)
    {
      intptr_t n = lpy_size (obj);
      size += (n < 0 ? -n : n) * item;
    }
  unsigned long flags = LPY_TP_FLAGS (tp);
  if (flags & LPY_TPFLAGS_HAVE_GC)
    size += 16;
  if (lpy.minor == 11 && (flags & LPY_TPFLAGS_MANAGED_DICT))
    size += 16;
  else if (lpy.minor >= 12 && (flags & (LPY_TPFLAGS_MANAGED_DICT | LPY_TPFLAGS_MANAGED_WEAKREF)))
    size += 16;
  return (uint64_t) size;
}

static void
record_object (snap *s, lpy_object *obj, uint32_t seen_bits)
{
  lpy_object *tp = lpy_type (obj);
  type_info *ti = type_info_get (s, tp);
  if (ti == NULL)
    return;

  bool is_gc = lpy_object_is_gc (obj);
  linger_object_entry e;
  memset (&e, 0, sizeof e);
  e.address = (uint64_t) (uintptr_t) obj;
  e.type_name = ti->full_name;
  e.flags = ti->flags;
  if (is_gc && lpy_object_is_tracked (obj))
    e.flags |= LINGER_OBJ_GC_TRACKED;
  if (is_gc && lpy_object_is_finalized (obj))
    e.flags |= LINGER_OBJ_FINALIZED;
  if (seen_bits & SEEN_GARBAGE)
    e.flags |= LINGER_OBJ_IN_GARBAGE;
  if (lpy_object_is_immortal (obj))
    e.flags |= LINGER_OBJ_IMMORTAL;
  /* The snapshot's own references are not the program's. */
  e.refcount = lpy_refcnt (obj) - ((seen_bits & SEEN_IN_LIST) ? 1 : 0)
               - (int64_t) (seen_bits >> SEEN_HELD_SHIFT);
  e.name = s->objects_only ? LINGER_STRING_NONE : object_name (s, obj, ti);
  bool estimated;
  e.size = object_size (obj, ti, &estimated);
  if (estimated)
    e.flags |= LINGER_OBJ_SIZE_ESTIMATED;
  linger_writer_object (s->w, &e);
  s->n_objects++;
  uint32_t site = linger_pyalloc_object_site (obj);
  if (site != 0)
    {
      linger_object_site_entry se = { .address = e.address, .site = site };
      linger_writer_object_site (s->w, &se);
    }
  if (s->objects_only)
    return;

  collect_candidates (s, obj, ti);

  s->targets.len = 0;
  if (is_gc)
    {
      lpy_traverseproc traverse = LPY_TP_TRAVERSE (tp);
      if (traverse != NULL)
        traverse (obj, visit_collect, s);
    }

  index_candidates (s);
  uint16_t fallback = ti->kind == KIND_SET ? LINGER_LABEL_ITEM : LINGER_LABEL_NONE;
  for (size_t i = 0; i < s->targets.len && !s->failed; i++)
    {
      lpy_object *t = s->targets.items[i];
      candidate *c = match_candidate (s, t);
      if (c != NULL)
        {
          c->used = true;
          emit_ref (s, obj, t, c->label_kind, c->label, c->ref_kind);
        }
      else
        emit_ref (s, obj, t, fallback, 0, LINGER_REF_STRONG);
    }
  for (size_t i = 0; i < s->cands.len && !s->failed; i++)
    {
      candidate *c = &s->cands.items[i];
      if (c->extra)
        emit_ref (s, obj, c->target, c->label_kind, c->label, c->ref_kind);
    }

  if (ti->kind == KIND_WEAKREF || ti->kind == KIND_PROXY)
    {
      lpy_object *referent = LPY_WR_OBJECT (obj);
      lpy_object *callback = LPY_WR_CALLBACK (obj);
      linger_weakref_entry we = {
        .weakref = e.address,
        .referent = (referent && referent != lpy._Py_NoneStruct && lpy_refcnt (referent) > 0)
                      ? (uint64_t) (uintptr_t) referent : 0,
        .callback = callback ? (uint64_t) (uintptr_t) callback : 0,
        .kind = ti->weakref_kind,
      };
      linger_writer_weakref (s->w, &we);
    }
}

static void
drain (snap *s)
{
  while (s->stack.len > 0 && !s->failed && !s->w->failed)
    {
      lpy_object *o = s->stack.items[--s->stack.len];
      uint32_t *v = linger_ptrmap_lookup (&s->seen, (uintptr_t) o);
      record_object (s, o, v ? *v : 0);
    }
}

/* ------------------------------------------------------------------ */
/* Preparation: everything that may allocate or free comes first */

static void
hold (snap *s, lpy_object *o, bool ignore)
{
  if (o == NULL)
    return;
  VEC_PUSH (s, s->held, o);
  bool inserted;
  uint32_t *v = linger_ptrmap_upsert (&s->seen, (uintptr_t) o, &inserted);
  if (v == NULL)
    return;
  if (ignore)
    *v |= SEEN_IGNORE;
  else
    *v += 1u << SEEN_HELD_SHIFT;
}

static void
count_extra_ref (snap *s, lpy_object *o)
{
  bool inserted;
  uint32_t *v = linger_ptrmap_upsert (&s->seen, (uintptr_t) o, &inserted);
  if (v != NULL)
    *v += 1u << SEEN_HELD_SHIFT;
}

static lpy_object *
module_get (const char *name)
{
  lpy_object *modules = lpy.PyImport_GetModuleDict ();
  return modules ? lpy.PyDict_GetItemString (modules, name) : NULL;
}

static lpy_object *
module_attr (const char *module, const char *name)
{
  lpy_object *m = module_get (module);
  if (m == NULL || !lpy_is_instance (m, lpy.PyModule_Type))
    return NULL;
  lpy_object *d = LPY_FIELD (m, 16, lpy_object *);
  return (d && lpy_is_instance (d, lpy.PyDict_Type)) ? lpy.PyDict_GetItemString (d, name) : NULL;
}

/* An attribute from an instance's own storage (dict or managed values),
 * without __getattribute__: used for thread names. */
typedef struct
{
  const char *want;
  lpy_object *found;
} attr_search;

static void
attr_search_cb (lpy_object *name, lpy_object *value, void *data)
{
  attr_search *a = data;
  ssize_t len;
  const char *u = str_utf8 (name, &len);
  if (u && (size_t) len == strlen (a->want) && memcmp (u, a->want, (size_t) len) == 0)
    a->found = value;
}

static lpy_object *
instance_attr (lpy_object *obj, const char *name)
{
  lpy_object *d = linger_py_layout_instance_dict (obj);
  if (d != NULL && lpy_is_instance (d, lpy.PyDict_Type))
    return lpy.PyDict_GetItemString (d, name);
  attr_search a = { .want = name, .found = NULL };
  linger_py_layout_managed_attrs (obj, attr_search_cb, &a);
  return a.found;
}

static void
prepare_threads (snap *s)
{
  lpy_object *sys = module_get ("sys");
  if (sys == NULL)
    return;
  lpy_object *current = lpy.PyObject_GetAttrString (sys, "_current_frames");
  lpy_object *frames = current ? lpy.PyObject_CallObject (current, NULL) : NULL;
  if (current)
    lpy.Py_DecRef (current);
  if (frames == NULL || !lpy_is_instance (frames, lpy.PyDict_Type))
    {
      lpy.PyErr_Clear ();
      if (frames)
        lpy.Py_DecRef (frames);
      return;
    }
  hold (s, frames, true);
  lpy_object *active = module_attr ("threading", "_active");

  ssize_t pos = 0;
  lpy_object *tid, *top;
  while (lpy.PyDict_Next (frames, &pos, &tid, &top))
    {
      const char *thread_name = NULL;
      ssize_t tlen = 0;
      lpy_object *thread = (active && lpy_is_instance (active, lpy.PyDict_Type))
                             ? lpy.PyDict_GetItem (active, tid) : NULL;
      if (thread != NULL)
        thread_name = str_utf8 (instance_attr (thread, "_name"), &tlen);

      lpy_object *frame = top;
      lpy.Py_IncRef (frame);
      for (int depth = 0; frame != NULL && depth < 1000 && !s->failed; depth++)
        {
          hold (s, frame, false);
          lpy_object *locals = lpy.PyObject_GetAttrString (frame, "f_locals");
          if (locals == NULL)
            lpy.PyErr_Clear ();
          else if (lpy_is_instance (locals, lpy.PyDict_Type))
            hold (s, locals, false);
          else
            {
              /* 3.13: a FrameLocalsProxy; turn it into pairs now. */
              lpy_object *items = lpy.PyMapping_Items (locals);
              lpy.Py_DecRef (locals);
              locals = NULL;
              if (items == NULL)
                lpy.PyErr_Clear ();
              else
                {
                  hold (s, items, true);
                  ssize_t n = lpy.PyList_Size (items);
                  for (ssize_t i = 0; i < n; i++)
                    {
                      lpy_object *pair = lpy.PyList_GetItem (items, i);
                      if (pair == NULL)
                        continue;
                      bool ins;
                      uint32_t *pv = linger_ptrmap_upsert (&s->seen, (uintptr_t) pair, &ins);
                      if (pv != NULL)
                        *pv |= SEEN_IGNORE;
                      if (lpy.PyTuple_Size (pair) == 2)
                        count_extra_ref (s, lpy.PyTuple_GetItem (pair, 1));
                    }
                  locals = items;
                }
              lpy.PyErr_Clear ();
            }
          frame_locals fl = { .frame = frame, .locals = locals };
          VEC_PUSH (s, s->frames, fl);
          bool inserted;
          uint32_t *fi = linger_ptrmap_upsert (&s->frame_index, (uintptr_t) frame, &inserted);
          if (fi != NULL)
            *fi = (uint32_t) s->frames.len;

          /* Root label: thread, function, file:line. */
          char label[512];
          lpy_object *code = lpy.PyObject_GetAttrString (frame, "f_code");
          lpy_object *lineno = lpy.PyObject_GetAttrString (frame, "f_lineno");
          lpy_object *co_name = code ? lpy.PyObject_GetAttrString (code, "co_name") : NULL;
          lpy_object *co_file = code ? lpy.PyObject_GetAttrString (code, "co_filename") : NULL;
          lpy.PyErr_Clear ();
          ssize_t nlen = 0, flen = 0;
          const char *fn = str_utf8 (co_name, &nlen);
          const char *file = str_utf8 (co_file, &flen);
          int overflow = 0;
          long long line = lineno ? lpy.PyLong_AsLongLongAndOverflow (lineno, &overflow) : 0;
          lpy.PyErr_Clear ();
          snprintf (label, sizeof label, "thread %.*s, %.*s() at %.*s:%lld",
                    (int) (thread_name ? tlen : 7), thread_name ? thread_name : "unnamed",
                    (int) (fn ? nlen : 1), fn ? fn : "?",
                    (int) (file ? flen : 1), file ? file : "?", line);
          linger_root_entry r = {
            .address = (uint64_t) (uintptr_t) frame,
            .kind = LINGER_ROOT_THREAD,
            .label = intern_cstr (s, label),
          };
          linger_writer_root (s->w, &r);
          s->n_roots++;
          if (co_name)
            lpy.Py_DecRef (co_name);
          if (co_file)
            lpy.Py_DecRef (co_file);
          if (code)
            lpy.Py_DecRef (code);
          if (lineno)
            lpy.Py_DecRef (lineno);

          /* hold() owns the reference to frame; back is a new one. */
          lpy_object *back = lpy.PyObject_GetAttrString (frame, "f_back");
          if (back == NULL || back == lpy._Py_NoneStruct)
            {
              lpy.PyErr_Clear ();
              if (back)
                lpy.Py_DecRef (back);
              frame = NULL;
            }
          else
            frame = back;
        }
      if (frame != NULL)
        lpy.Py_DecRef (frame);
    }
}

static uint32_t
callable_label (snap *s, uint32_t index, lpy_object *func)
{
  char label[256];
  lpy_object *named = func;
  if (lpy_type (func) == lpy.PyMethod_Type)
    named = LPY_METHOD_FUNC (func);
  lpy_object *qual = NULL;
  if (named != NULL && lpy_type (named) == lpy.PyFunction_Type)
    qual = lpy.PyObject_GetAttrString (named, "__qualname__");
  lpy.PyErr_Clear ();
  ssize_t len = 0;
  const char *q = str_utf8 (qual, &len);
  if (q != NULL)
    snprintf (label, sizeof label, "atexit callback #%u: %.*s", index + 1, (int) len, q);
  else
    snprintf (label, sizeof label, "atexit callback #%u: <%s>", index + 1, LPY_TP_NAME (lpy_type (func)));
  if (qual)
    lpy.Py_DecRef (qual);
  return intern_cstr (s, label);
}

static void
atexit_cb (uint32_t index, lpy_object *func, lpy_object *args, lpy_object *kwargs, void *data)
{
  snap *s = data;
  linger_atexit_entry e = {
    .func = (uint64_t) (uintptr_t) func,
    .args = (uint64_t) (uintptr_t) args,
    .kwargs = (uint64_t) (uintptr_t) kwargs,
    .index = index,
  };
  VEC_PUSH (s, s->atexits, e);
  uint32_t label = callable_label (s, index, func);
  lpy_object *parts[3] = { func, args, kwargs };
  for (int i = 0; i < 3; i++)
    {
      if (parts[i] == NULL || parts[i] == lpy._Py_NoneStruct)
        continue;
      linger_root_entry r = {
        .address = (uint64_t) (uintptr_t) parts[i],
        .kind = LINGER_ROOT_ATEXIT,
        .label = label,
      };
      linger_writer_root (s->w, &r);
      s->n_roots++;
    }
}

static void
prepare_atexit (snap *s)
{
  if (linger_py_layout_atexit (atexit_cb, s) < 0)
    linger_writer_message (s->w, LINGER_MSG_INFO,
                           "atexit callbacks could not be read on this interpreter; "
                           "objects they hold show as held by the interpreter");
}

static void
write_atexits (snap *s)
{
  for (size_t i = 0; i < s->atexits.len; i++)
    linger_writer_atexit (s->w, &s->atexits.items[i]);
}

static void
write_module_roots (snap *s)
{
  lpy_object *modules = lpy.PyImport_GetModuleDict ();
  if (modules == NULL)
    return;
  ssize_t pos = 0;
  lpy_object *k, *v;
  while (lpy.PyDict_Next (modules, &pos, &k, &v))
    {
      ssize_t len = 0;
      const char *name = str_utf8 (k, &len);
      linger_root_entry r = {
        .address = (uint64_t) (uintptr_t) v,
        .kind = LINGER_ROOT_MODULE,
        .label = name ? intern_text (s, name, (size_t) len) : intern_cstr (s, "?"),
      };
      linger_writer_root (s->w, &r);
      s->n_roots++;
    }
  linger_root_entry r = {
    .address = (uint64_t) (uintptr_t) modules,
    .kind = LINGER_ROOT_SYS,
    .label = intern_cstr (s, "sys.modules"),
  };
  linger_writer_root (s->w, &r);
  s->n_roots++;
}

static lpy_object *
member_by_name (snap *s, lpy_object *obj, const char *name)
{
  type_info *ti = type_info_get (s, lpy_type (obj));
  if (ti == NULL)
    return NULL;
  uint32_t id = intern_cstr (s, name);
  for (uint32_t i = 0; i < ti->n_members; i++)
    {
      member_slot *m = &s->members.items[ti->members_start + i];
      if (m->name == id)
        return LPY_FIELD (obj, m->offset, lpy_object *);
    }
  return instance_attr (obj, name);
}

static void
write_finalizers (snap *s)
{
  if (s->finalize_type == NULL)
    return;
  lpy_object *d = LPY_TP_DICT (s->finalize_type);
  lpy_object *registry = d ? lpy.PyDict_GetItemString (d, "_registry") : NULL;
  if (registry == NULL || !lpy_is_instance (registry, lpy.PyDict_Type))
    return;
  ssize_t pos = 0;
  lpy_object *f, *info;
  while (lpy.PyDict_Next (registry, &pos, &f, &info))
    {
      lpy_object *wr = member_by_name (s, info, "weakref");
      lpy_object *func = member_by_name (s, info, "func");
      lpy_object *args = member_by_name (s, info, "args");
      lpy_object *kwargs = member_by_name (s, info, "kwargs");
      lpy_object *atexit = member_by_name (s, info, "atexit");
      lpy_object *index = member_by_name (s, info, "index");
      lpy_object *referent = NULL;
      if (wr != NULL && lpy_is_instance (wr, lpy._PyWeakref_RefType))
        {
          referent = LPY_WR_OBJECT (wr);
          if (referent == lpy._Py_NoneStruct || lpy_refcnt (referent) <= 0)
            referent = NULL;
        }
      int overflow = 0;
      long long idx = (index && lpy_type (index) == lpy.PyLong_Type)
                        ? lpy.PyLong_AsLongLongAndOverflow (index, &overflow) : 0;
      lpy.PyErr_Clear ();
      linger_finalizer_entry e = {
        .finalizer = (uint64_t) (uintptr_t) f,
        .info = (uint64_t) (uintptr_t) info,
        .weakref = (uint64_t) (uintptr_t) wr,
        .referent = (uint64_t) (uintptr_t) referent,
        .func = (uint64_t) (uintptr_t) func,
        .args = (args && args != lpy._Py_NoneStruct) ? (uint64_t) (uintptr_t) args : 0,
        .kwargs = (kwargs && kwargs != lpy._Py_NoneStruct) ? (uint64_t) (uintptr_t) kwargs : 0,
        .index = (uint64_t) (idx < 0 ? 0 : idx),
        .flags = atexit == lpy._Py_TrueStruct ? LINGER_FINALIZER_ATEXIT : 0,
      };
      linger_writer_finalizer (s->w, &e);
    }
}

static lpy_object *
call_noargs (lpy_object *module, const char *name)
{
  if (module == NULL)
    return NULL;
  lpy_object *fn = lpy.PyObject_GetAttrString (module, name);
  lpy_object *r = fn ? lpy.PyObject_CallObject (fn, NULL) : NULL;
  if (fn)
    lpy.Py_DecRef (fn);
  if (r == NULL)
    lpy.PyErr_Clear ();
  return r;
}

static void
snap_free (snap *s)
{
  for (size_t i = s->held.len; i > 0; i--)
    lpy.Py_DecRef (s->held.items[i - 1]);
  free (s->held.items);
  for (size_t i = 0; i < s->types.len; i++)
    free (s->types.items[i]);
  free (s->types.items);
  free (s->members.items);
  free (s->stack.items);
  free (s->cands.items);
  free (s->cand_next.items);
  linger_ptrmap_clear (&s->cand_index);
  free (s->targets.items);
  free (s->closure_codes.items);
  free (s->frames.items);
  free (s->atexits.items);
  linger_ptrmap_clear (&s->seen);
  linger_ptrmap_clear (&s->type_index);
  linger_ptrmap_clear (&s->str_ids);
  linger_ptrmap_clear (&s->key_ids);
  if (s->redact)
    linger_ptrmap_clear (&s->attr_dicts);
  linger_ptrmap_clear (&s->closures);
  linger_ptrmap_clear (&s->frame_index);
  if (s->s_sizeof)
    lpy.Py_DecRef (s->s_sizeof);
  if (s->s_del)
    lpy.Py_DecRef (s->s_del);
}

bool
linger_snapshot_take (linger_writer *w, uint32_t snapshot_id, uint32_t reason, bool objects_only)
{
  uint64_t t0 = linger_time_monotonic_ns ();
  snap s_storage;
  snap *s = &s_storage;
  memset (s, 0, sizeof *s);
  s->w = w;
  s->objects_only = objects_only;

  lpy_object *exc_type, *exc_value, *exc_tb;
  lpy.PyErr_Fetch (&exc_type, &exc_value, &exc_tb);

  lpy_object *gc = module_get ("gc");
  lpy_object *gc_imported = NULL;
  if (gc == NULL)
    {
      /* Before the walk, so the import may run code. */
      gc = gc_imported = lpy.PyImport_ImportModule ("gc");
      lpy.PyErr_Clear ();
    }
  /* Disable the collector so nothing moves or dies during the walk. */
  bool gc_was_enabled = false;
  if (lpy.PyGC_Disable != NULL)
    gc_was_enabled = lpy.PyGC_Disable () != 0;
  else
    {
      lpy_object *r = call_noargs (gc, "isenabled");
      gc_was_enabled = r == lpy._Py_TrueStruct;
      if (r)
        lpy.Py_DecRef (r);
      r = call_noargs (gc, "disable");
      if (r)
        lpy.Py_DecRef (r);
    }

  if (!linger_ptrmap_init (&s->seen, 1u << 16) || !linger_ptrmap_init (&s->type_index, 1024)
      || !linger_ptrmap_init (&s->str_ids, 1u << 12) || !linger_ptrmap_init (&s->key_ids, 1u << 12)
      || !linger_ptrmap_init (&s->closures, 1024)
      || !linger_ptrmap_init (&s->frame_index, 64)
      || ((s->redact = linger_output_redact ()) && !linger_ptrmap_init (&s->attr_dicts, 1u << 12)))
    {
      s->failed = true;
      s->why = "out of memory";
    }
  s->s_sizeof = lpy.PyUnicode_InternFromString ("__sizeof__");
  s->s_del = lpy.PyUnicode_InternFromString ("__del__");
  if (s->s_sizeof == NULL || s->s_del == NULL)
    {
      s->failed = true;
      s->why = "cannot create strings";
    }

  linger_writer_snapshot_begin (w, snapshot_id, reason);

  s->weakmethod_type = module_attr ("weakref", "WeakMethod");
  s->finalize_type = module_attr ("weakref", "finalize");
  s->partial_type = module_attr ("functools", "partial");
  if (s->weakmethod_type && !lpy_is_type_object (s->weakmethod_type))
    s->weakmethod_type = NULL;
  if (s->finalize_type && !lpy_is_type_object (s->finalize_type))
    s->finalize_type = NULL;
  if (s->partial_type && !lpy_is_type_object (s->partial_type))
    s->partial_type = NULL;

  s->id_dict = intern_cstr (s, "__dict__");
  s->id_bases = intern_cstr (s, "__bases__");
  s->id_callback = intern_cstr (s, "__callback__");
  s->id_cell_contents = intern_cstr (s, "cell_contents");
  s->id_self = intern_cstr (s, "__self__");
  s->id_code = intern_cstr (s, "__code__");
  s->id_defaults = intern_cstr (s, "__defaults__");
  s->id_kwdefaults = intern_cstr (s, "__kwdefaults__");
  s->id_annotations = intern_cstr (s, "__annotations__");
  s->id_closure = intern_cstr (s, "__closure__");

  /* 1. Preparation. */
  lpy_object *objects = NULL;
  if (!s->failed)
    {
      if (!s->objects_only)
        {
          write_module_roots (s);
          prepare_atexit (s);
          prepare_threads (s);
        }
      objects = call_noargs (gc, "get_objects");
      if (objects == NULL || !lpy_is_instance (objects, lpy.PyList_Type))
        {
          s->failed = true;
          s->why = "gc.get_objects() failed";
        }
      else
        hold (s, objects, true);

      lpy_object *garbage = gc ? lpy.PyObject_GetAttrString (gc, "garbage") : NULL;
      if (garbage != NULL && lpy_is_instance (garbage, lpy.PyList_Type))
        {
          hold (s, garbage, false);
          ssize_t n = lpy.PyList_Size (garbage);
          for (ssize_t i = 0; i < n; i++)
            {
              bool inserted;
              uint32_t *v = linger_ptrmap_upsert (&s->seen, (uintptr_t) lpy.PyList_GetItem (garbage, i), &inserted);
              if (v)
                *v |= SEEN_GARBAGE;
            }
        }
      else if (garbage != NULL)
        lpy.Py_DecRef (garbage);
      lpy.PyErr_Clear ();
    }

  /* 2. The walk. */
  if (!s->failed)
    {
      ssize_t n = lpy.PyList_Size (objects);
      /* Closure tuples get their variable names from the function's code,
       * whichever of the two the walk meets first. */
      for (ssize_t i = 0; i < n && !s->failed; i++)
        {
          lpy_object *o = lpy.PyList_GetItem (objects, i);
          if (o == NULL)
            continue;
          /* Marked before any record is written: an object met first as
           * somebody's referent must still get the list's reference
           * subtracted from its refcount. */
          bool ins;
          uint32_t *sv = linger_ptrmap_upsert (&s->seen, (uintptr_t) o, &ins);
          if (sv == NULL)
            {
              s->failed = true;
              s->why = "out of memory";
              break;
            }
          *sv |= SEEN_IN_LIST;
          if (lpy_type (o) != lpy.PyFunction_Type)
            continue;
          lpy_object *closure = lpy.PyFunction_GetClosure (o);
          lpy_object *code = lpy.PyFunction_GetCode (o);
          if (closure == NULL || code == NULL)
            continue;
          bool inserted;
          uint32_t *v = linger_ptrmap_upsert (&s->closures, (uintptr_t) closure, &inserted);
          if (v != NULL && inserted)
            {
              VEC_PUSH (s, s->closure_codes, code);
              *v = (uint32_t) s->closure_codes.len;
            }
        }
      /* Roots that no traversal reaches are recorded first: an atexit
       * callback's untracked args tuple, and thread frames (3.11+ creates
       * frame objects untracked, so no gc list holds them). */
      for (size_t i = 0; i < s->frames.len; i++)
        queue (s, s->frames.items[i].frame);
      for (size_t i = 0; i < s->atexits.len; i++)
        {
          linger_atexit_entry *e = &s->atexits.items[i];
          uint64_t parts[3] = { e->func, e->args, e->kwargs };
          for (int j = 0; j < 3; j++)
            if (parts[j] != 0)
              queue (s, (lpy_object *) (uintptr_t) parts[j]);
        }
      drain (s);
      for (ssize_t i = 0; i < n && !s->failed && !w->failed; i++)
        {
          lpy_object *o = lpy.PyList_GetItem (objects, i);
          if (o == NULL)
            continue;
          uint32_t *v = linger_ptrmap_lookup (&s->seen, (uintptr_t) o);
          if (v == NULL || (*v & (SEEN_QUEUED | SEEN_IGNORE)))
            continue;
          *v |= SEEN_QUEUED;
          record_object (s, o, *v);
          drain (s);
        }
      if (!s->objects_only)
        {
          write_finalizers (s);
          write_atexits (s);
        }
    }
  lpy.PyErr_Clear ();

  if (s->failed || w->failed)
    {
      char msg[256];
      snprintf (msg, sizeof msg, "snapshot %u stopped early: %s", snapshot_id,
                s->why ? s->why : "the trace could not be written");
      linger_writer_message (w, LINGER_MSG_WARNING, msg);
    }
  linger_rec_snapshot_end end = {
    .snapshot_id = snapshot_id,
    .status = s->failed ? LINGER_SNAPSHOT_PARTIAL : LINGER_SNAPSHOT_OK,
    .n_objects = s->n_objects,
    .n_refs = s->n_refs,
    .n_roots = s->n_roots,
    .duration_ns = linger_time_monotonic_ns () - t0,
  };
  linger_writer_snapshot_end (w, &end);
  linger_writer_flush (w);

  bool ok = !s->failed;
  snap_free (s);

  if (gc_was_enabled)
    {
      if (lpy.PyGC_Enable != NULL)
        lpy.PyGC_Enable ();
      else
        {
          lpy_object *r = call_noargs (gc, "enable");
          if (r)
            lpy.Py_DecRef (r);
        }
    }
  if (gc_imported)
    lpy.Py_DecRef (gc_imported);
  lpy.PyErr_Restore (exc_type, exc_value, exc_tb);
  return ok;
}
