/* SPDX-License-Identifier: MIT */
/* Internals shared by cpython.c (discovery) and walk.c (the heap walk). */
#ifndef PH_CPYTHON_PRIVATE_H
#define PH_CPYTHON_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "layout.h"
#include "mem.h"

/* Symbols looked up in the interpreter's ELF files (S(id, "name")). */
#define PH_SYMBOLS(S)                                                   \
	S(SYM_PyRuntime, "_PyRuntime")                                  \
	S(SYM_Py_Version, "Py_Version")                                 \
	S(SYM_version_buffer, "version.0")                              \
	S(SYM_interp_head, "interp_head")                               \
	S(SYM_interned, "interned")                                     \
	S(SYM_method_cache, "method_cache")                             \
	S(SYM_errnomap, "errnomap")                                     \
	S(SYM_PyInterpreterState_Head, "PyInterpreterState_Head")       \
	S(SYM_subtype_traverse, "subtype_traverse")                     \
	S(SYM_set_dummy, "_PySet_Dummy")                                \
	S(SYM_PyType_Type, "PyType_Type")                               \
	S(SYM_PyBaseObject_Type, "PyBaseObject_Type")                   \
	S(SYM_PyDict_Type, "PyDict_Type")                               \
	S(SYM_PyList_Type, "PyList_Type")                               \
	S(SYM_PyTuple_Type, "PyTuple_Type")                             \
	S(SYM_PySet_Type, "PySet_Type")                                 \
	S(SYM_PyFrozenSet_Type, "PyFrozenSet_Type")                     \
	S(SYM_PyUnicode_Type, "PyUnicode_Type")                         \
	S(SYM_PyLong_Type, "PyLong_Type")                               \
	S(SYM_PyBool_Type, "PyBool_Type")                               \
	S(SYM_PyFloat_Type, "PyFloat_Type")                             \
	S(SYM_PyBytes_Type, "PyBytes_Type")                             \
	S(SYM_PyByteArray_Type, "PyByteArray_Type")                     \
	S(SYM_PyModule_Type, "PyModule_Type")                           \
	S(SYM_PyFunction_Type, "PyFunction_Type")                       \
	S(SYM_PyCode_Type, "PyCode_Type")                               \
	S(SYM_PyCell_Type, "PyCell_Type")                               \
	S(SYM_PyMethod_Type, "PyMethod_Type")                           \
	S(SYM_PyWeakref_RefType, "_PyWeakref_RefType")                  \
	S(SYM_PyWeakref_ProxyType, "_PyWeakref_ProxyType")              \
	S(SYM_PyWeakref_CallableProxyType, "_PyWeakref_CallableProxyType") \
	S(SYM_PyCFunction_Type, "PyCFunction_Type")                     \
	S(SYM_PyCMethod_Type, "PyCMethod_Type")                         \
	S(SYM_PyMethodDescr_Type, "PyMethodDescr_Type")                 \
	S(SYM_PyClassMethodDescr_Type, "PyClassMethodDescr_Type")       \
	S(SYM_PyMemberDescr_Type, "PyMemberDescr_Type")                 \
	S(SYM_PyGetSetDescr_Type, "PyGetSetDescr_Type")                 \
	S(SYM_PyWrapperDescr_Type, "PyWrapperDescr_Type")               \
	S(SYM_PyClassMethod_Type, "PyClassMethod_Type")                 \
	S(SYM_PyStaticMethod_Type, "PyStaticMethod_Type")               \
	S(SYM_PyProperty_Type, "PyProperty_Type")                       \
	S(SYM_PyDictProxy_Type, "PyDictProxy_Type")                     \
	S(SYM_PyFrame_Type, "PyFrame_Type")                             \
	S(SYM_PyGen_Type, "PyGen_Type")                                 \
	S(SYM_PyCoro_Type, "PyCoro_Type")                               \
	S(SYM_PyAsyncGen_Type, "PyAsyncGen_Type")                       \
	S(SYM_PyContext_Type, "PyContext_Type")                         \
	S(SYM_PyContextVar_Type, "PyContextVar_Type")                   \
	S(SYM_PyContextToken_Type, "PyContextToken_Type")               \
	S(SYM_PySeqIter_Type, "PySeqIter_Type")                         \
	S(SYM_PyCallIter_Type, "PyCallIter_Type")                       \
	S(SYM_PyEnum_Type, "PyEnum_Type")                               \
	S(SYM_PyReversed_Type, "PyReversed_Type")                       \
	S(SYM_PyZip_Type, "PyZip_Type")                                 \
	S(SYM_PyMap_Type, "PyMap_Type")                                 \
	S(SYM_PyFilter_Type, "PyFilter_Type")                           \
	S(SYM_PyListIter_Type, "PyListIter_Type")                       \
	S(SYM_PyODict_Type, "PyODict_Type")                             \
	S(SYM_PyListRevIter_Type, "PyListRevIter_Type")                 \
	S(SYM_PyTupleIter_Type, "PyTupleIter_Type")                     \
	S(SYM_PyDictIterKey_Type, "PyDictIterKey_Type")                 \
	S(SYM_PyDictIterValue_Type, "PyDictIterValue_Type")             \
	S(SYM_PyDictIterItem_Type, "PyDictIterItem_Type")               \
	S(SYM_PyDictRevIterKey_Type, "PyDictRevIterKey_Type")           \
	S(SYM_PyDictRevIterValue_Type, "PyDictRevIterValue_Type")       \
	S(SYM_PyDictRevIterItem_Type, "PyDictRevIterItem_Type")         \
	S(SYM_PySetIter_Type, "PySetIter_Type")                         \
	S(SYM_PyDictKeys_Type, "PyDictKeys_Type")                       \
	S(SYM_PyDictValues_Type, "PyDictValues_Type")                   \
	S(SYM_PyDictItems_Type, "PyDictItems_Type")                     \
	S(SYM_Py_GetVersion, "Py_GetVersion")                           \
	S(SYM_signal_Handlers, "Handlers")                              \
	S(SYM_arenas, "arenas")                                         \
	S(SYM_maxarenas, "maxarenas")                                   \
	S(SYM_tracemalloc_config, "_Py_tracemalloc_config")             \
	S(SYM_tracemalloc_traces, "tracemalloc_traces")

enum ph_symbol {
#define S(id, name) id,
	PH_SYMBOLS(S)
#undef S
	SYM_COUNT
};

extern const char *const ph_symbol_names[SYM_COUNT];

struct ph_core;

/* The static data (.data, .bss) of an ELF file the process mapped (the
 * interpreter, shared objects): where a C extension keeps its static
 * variables. */
struct ph_static_area {
	uint64_t start, end; /* run-time range */
	uint64_t base;       /* the file's load base (start - base: nm's address) */
	char *file;          /* its base name */
	bool interpreter;    /* the interpreter's own file (libpython, the executable) */
};

struct ph_python {
	pid_t pid;
	char what[160];  /* "pid 4242", or "core FILE (pid 4242)": for messages */
	struct ph_core *core; /* while ph_python_open_core() runs, else NULL */
	const char *core_why; /* why the core's file of the runtime cannot be used */
	char *path;      /* the ELF file holding the runtime, as mapped */
	char *open_path; /* the same through /proc/PID/root (or map_files: deleted) */
	/* where the process's own files are here when its root is not ours (a
	 * container's /proc/PID/root, a core's --sysroot): its debug packages */
	char *root;
	pid_t ns_pid;    /* pid in the process's own PID namespace (a thread's native id) */
	bool deleted;    /* the file was deleted or replaced since it was mapped */
	char version[32];
	unsigned major, minor, micro;
	uint32_t hexversion;
	uint64_t bias;
	uint64_t sym[SYM_COUNT]; /* run-time addresses, 0 when absent */
	struct ph_layout L;
	char *layout_source;
	const char *layout_kind;
	uint64_t runtime_size; /* st_size of _PyRuntime, 0 if unknown */
	uint64_t handlers_size; /* st_size of signalmodule.c's Handlers (before 3.12) */
	/* Set by ph_python_open(): ph_python_walk() first calls
	 * ph_python_check_live() (a stopped target). Left false by callers that
	 * build a struct ph_python by hand (unit tests over fake heaps). */
	bool live_checks;
	uint64_t text_start, text_end; /* run-time range of the ELF's executable sections */
	/* run-time range of the ELF's .bss, where a stripped 3.8-3.11 keeps
	 * signalmodule.c's Handlers (0 when the symbol is known) */
	uint64_t bss_start, bss_end;
	/* glibc's malloc: run-time address and st_size of libc's main_arena
	 * (a local symbol: libc's symbol table or its debug file), 0 if not found */
	uint64_t libc_main_arena, libc_main_arena_size;
	bool libc_safe_linking; /* glibc 2.32+ (it exports __libc_single_threaded) */
	uint64_t libc_mp, libc_mp_size; /* malloc's parameters and counters (mp_), 0 if not found */
	/* another malloc mapped (jemalloc, tcmalloc, mimalloc): its name and
	 * file's base name, else empty */
	char malloc_other[16], malloc_other_file[64];
	struct ph_static_area *static_areas; /* by address */
	size_t nstatic_areas;
	/* the anonymous writable mappings, by address (threads' stacks: which
	 * thread a main greenlet's saved stack pointer belongs to), and the
	 * main thread's [stack] (0, 0 when not named: a core) */
	struct ph_mem_range *anon_maps;
	size_t nanon_maps;
	uint64_t stack_start, stack_end;
};

/**
 * Checks the layout against the stopped target before the walk trusts it: the
 * interpreter list, thread states pointing back at their interpreter, the GC
 * generation lists forming closed rings with symmetric links whose first
 * objects have types, and the interpreter's dicts. Then, when the ELF files
 * had no `subtype_traverse` symbol (a stripped interpreter), derives it from
 * the heap types in the GC lists. Fails with PH_ERR_NO_DEBUG_INFO naming the
 * check that failed.
 */
struct ph_error *ph_python_check_live(struct ph_python *py, struct ph_mem *mem);

#endif
