/* SPDX-License-Identifier: MIT */
/**
 * @file dot.h
 * The referrer graph around a set of objects in Graphviz's dot language
 * (like objgraph's show_backrefs), grouped by kind so that it stays
 * readable: a node per kind (with how many objects of it were met), an edge
 * per pair referrer kind -> kind (with how many references, and their label
 * when they all read the same: "key 'leak'", "[*]", ".attr").
 */
#ifndef PH_DOT_H
#define PH_DOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "graph.h"

struct ph_dot_options {
	uint32_t depth;   /**< levels of referrers (like the reference pattern's depth) */
	uint32_t breadth; /**< new kinds drawn per level; the others are merged into one node */
};

/**
 * Walks the referrers of @p objs (@p n objects, named @p kind) level by
 * level, @p opt->depth levels deep, each object counted once (at the first
 * level it is met), and writes the graph to @p out.
 */
struct ph_error *ph_dot_write(FILE *out, const struct ph_graph *g, const char *kind,
			      const uint32_t *objs, size_t n, const struct ph_dot_options *opt);

#endif
