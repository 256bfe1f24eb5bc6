/* SPDX-License-Identifier: MIT */
/**
 * @file snapshot.h
 * An in-memory graph of the target's heap: objects (address, type, size),
 * labelled edges, dict ownership, and metadata. Built while the target is
 * stopped; everything after (analysis, reports) works on it alone.
 */
#ifndef PH_SNAPSHOT_H
#define PH_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PH_NONE UINT32_MAX

enum ph_object_flags {
	PH_OBJ_GC_LIST = 1 << 0,      /**< found in a GC generation list */
	PH_OBJ_MODULE_DICT = 1 << 1,  /**< the md_dict of a module (owner is the module) */
	PH_OBJ_INLINE_VALUES = 1 << 2,/**< attributes stored without a dict object */
	PH_OBJ_IMMORTAL = 1 << 3,     /**< 3.12+ immortal refcount */
};

struct ph_object {
	uint64_t address;
	uint64_t size;     /**< as sys.getsizeof, plus dict-less attribute storage */
	uint64_t refcnt;
	uint32_t type;     /**< index into ph_snapshot.types */
	uint32_t owner;    /**< for a dict: the object whose __dict__ it is, or PH_NONE */
	uint8_t flags;
};

/** Edge labels: kind in the top 4 bits, a payload in the low 28 bits. */
enum ph_edge_kind {
	PH_EDGE_FIELD = 0,      /**< a named struct field; payload: enum ph_field */
	PH_EDGE_INDEX = 1,      /**< tuple/list item; payload: index */
	PH_EDGE_DICT_KEY = 2,   /**< payload: entry index */
	PH_EDGE_DICT_VALUE = 3, /**< payload: entry index */
	PH_EDGE_ATTR = 4,       /**< dict-less attribute; payload: index in the type's attr names */
	PH_EDGE_SLOT = 5,       /**< __slots__ member; payload: index in the type's slot names */
	PH_EDGE_SET_ITEM = 6,
	PH_EDGE_LOCAL = 7,      /**< frame local; payload: index in co_localsplusnames/varnames */
};
#define PH_EDGE(kind, payload) (((uint32_t)(kind) << 28) | ((uint32_t)(payload) & 0x0fffffffu))
#define PH_EDGE_KIND(label) ((enum ph_edge_kind)((label) >> 28))
#define PH_EDGE_PAYLOAD(label) ((label) & 0x0fffffffu)

struct ph_edge {
	uint32_t target;
	uint32_t label;
};

struct ph_type {
	uint64_t address;
	char *name;        /**< kind name of its instances: "dict", "__main__.Foo" */
	char **attr_names; /**< names of dict-less attributes (shared keys), may be NULL */
	uint32_t nattr_names;
	char **slot_names;
	uint32_t nslot_names;
	uint32_t object;   /**< the type object's own index in objects, or PH_NONE */
	bool is_dict;      /**< exactly dict: owned dicts are "dict of X" */
};

struct ph_snapshot {
	struct ph_object *objects;
	size_t nobjects;
	uint32_t *edge_start; /**< edges of object i: [edge_start[i], edge_start[i+1]) */
	struct ph_edge *edges;
	size_t nedges;
	struct ph_type *types;
	size_t ntypes;

	/* metadata */
	int pid;
	char python_version[32];
	char *python_path;
	char *layout_source;     /**< in words: "DWARF (libpython3.11.so.1.0)" */
	const char *layout_kind; /**< "dwarf", "tables", "debug_offsets" (static string) */
	uint64_t pause_ns;
	uint64_t rss;
	uint64_t unreadable;     /**< references to memory that could not be read or was invalid */
	uint64_t gc_objects;     /**< objects found in GC lists */
	uint32_t interpreters;
	uint32_t threads;
	bool truncated;          /**< the walk stopped early (time or object limit) */
	char *truncated_reason;
};

struct ph_snapshot *ph_snapshot_create(void);
void ph_snapshot_destroy(struct ph_snapshot *snap);

/** The kind name of an object: its type's name, or "dict of X" / "dict (no owner)". */
const char *ph_snapshot_kind(const struct ph_snapshot *snap, size_t i, char *buf, size_t cap);

#endif
