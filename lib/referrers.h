/* SPDX-License-Identifier: MIT */
/**
 * @file referrers.h
 * Who holds the objects of a kind: referrers by kind (Heapy's byrcs), the
 * reference pattern (Heapy's rp) and the shortest paths from roots (shpaths).
 */
#ifndef PH_REFERRERS_H
#define PH_REFERRERS_H

#include <stdint.h>

#include "error.h"
#include "graph.h"
#include "snapshot.h"

enum { PH_REFERRERS_LARGEST = 3 };

struct ph_count_row {
	char *name;
	uint64_t count;
};

struct ph_pattern_node {
	uint32_t depth;
	uint64_t count;     /**< objects in this node */
	char *kind;
	char *via;          /**< "via key 'x'" or "<- N objects"; NULL at depth 0 */
};

struct ph_referrers {
	char *kind;                 /**< the kind selected, or "0x…" for one object */
	uint64_t objects, size;
	/** what the objects retain together: they and all that only they hold */
	uint64_t retained_objects, retained_size;
	struct ph_count_row *by_kind;   /**< referrer kinds: targets referred to */
	size_t nby_kind;
	struct ph_count_row *combos;    /**< combinations of referrer kinds (byrcs) */
	size_t ncombos;
	struct ph_count_row *weak;      /**< kinds holding them only weakly */
	size_t nweak;
	uint64_t from_roots;            /**< targets referred to directly by a root */
	struct ph_pattern_node *pattern;
	size_t npattern;
	uint32_t depth;                 /**< the pattern's depth limit */
	struct ph_count_row *paths;     /**< grouped shortest paths, by count */
	size_t npaths;
	uint64_t unreachable;           /**< targets with no path (garbage) */
	/** the largest objects (by own size; the first found among equals),
	 * with their own shortest paths: what to look at one by one */
	struct ph_referrers_example {
		uint64_t address, size;
		char *path; /**< NULL: no path (garbage) */
	} largest[PH_REFERRERS_LARGEST];
	size_t nlargest;
};

struct ph_referrers_options {
	uint32_t depth;     /**< reference pattern depth (default 4) */
	uint32_t breadth;   /**< children per pattern node (default 4) */
};

/**
 * Selects the objects: an exact kind, a kind's last component ("Request"),
 * "dict" (every dict, whatever kind of dict the partition made it), or
 * "0xADDRESS". On ambiguity or no match returns a PH_ERR_USAGE error listing
 * the candidates or the closest kinds.
 */
struct ph_error *ph_referrers_compute(const struct ph_graph *g, const char *what,
				      const struct ph_referrers_options *opt,
				      struct ph_referrers *ret);
void ph_referrers_deinit(struct ph_referrers *r);

/**
 * The selection of ph_referrers_compute() alone: the indices of the objects
 * @p what names (a malloc'ed array of *@p n, in snapshot order) and the
 * kind's name for reports (malloc'ed: "__main__.Request", "str at 0x…").
 */
struct ph_error *ph_referrers_select(const struct ph_graph *g, const char *what, uint32_t **ret,
				     size_t *n, char **kind);

/**
 * The analysis of ph_referrers_compute() for a given set of objects (e.g.
 * the objects of a kind that are new since an earlier snapshot): referrers by
 * kind, their combinations, weak referrers, the reference pattern and the
 * grouped shortest paths from roots. @p kind names the set in ret->kind.
 * @p n may be 0.
 */
struct ph_error *ph_referrers_compute_set(const struct ph_graph *g, const char *kind,
					  const uint32_t *objs, size_t n,
					  const struct ph_referrers_options *opt,
					  struct ph_referrers *ret);

/**
 * The shortest paths of @p targets from the roots, grouped when they differ
 * only by indexes or keys (a group shows "[*]" only where its paths differ),
 * by count descending, into @p ret (@p nret groups; ph_count_rows_free());
 * @p unreachable: the targets with no path.
 */
struct ph_error *ph_referrers_paths(const struct ph_graph *g, const uint32_t *targets, size_t nt,
				    struct ph_count_row **ret, size_t *nret, uint64_t *unreachable);

/** Frees @p n rows and their names. */
void ph_count_rows_free(struct ph_count_row *rows, size_t n);

#endif
