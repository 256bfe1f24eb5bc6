/* SPDX-License-Identifier: MIT */
#include "dot.h"
#include "report.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>


struct node {
	char *kind;
	uint64_t objects;
	uint32_t level;
	bool hidden;  // not among the kinds drawn at its level: merged into "other"
	bool target;  // the objects asked about
	bool root;    // references from thread frames (no object)
};

struct dedge {
	uint32_t from, to;
	uint64_t count;
	char label[96];
	bool label_unique;
};

struct dot {
	const struct ph_graph *g;
	struct node *nodes;
	size_t nnodes, capnodes;
	uint32_t *nslots; // kind -> node + 1
	size_t nnslots;
	struct dedge *edges;
	size_t nedges, capedges;
	uint32_t *eslots; // (from, to) -> edge + 1
	size_t neslots;
	bool failed;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static uint64_t pair_hash(uint32_t a, uint32_t b)
{
	uint64_t h = ((uint64_t)a << 32 | b) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static bool rehash_nodes(struct dot *d)
{
	size_t ns = d->nnslots ? d->nnslots * 2 : 64;
	uint32_t *sl = calloc(ns, sizeof(*sl));
	if (!sl)
		return false;
	for (size_t i = 0; i < d->nnodes; i++) {
		size_t j = str_hash(d->nodes[i].kind) & (ns - 1);
		while (sl[j])
			j = (j + 1) & (ns - 1);
		sl[j] = (uint32_t)i + 1;
	}
	free(d->nslots);
	d->nslots = sl;
	d->nnslots = ns;
	return true;
}

// The node of @kind, created at @level if absent; UINT32_MAX on failure.
static uint32_t node_of_kind(struct dot *d, const char *kind, uint32_t level)
{
	if ((d->nnodes + 1) * 2 > d->nnslots && !rehash_nodes(d))
		goto nomem;
	size_t j = str_hash(kind) & (d->nnslots - 1);
	for (; d->nslots[j]; j = (j + 1) & (d->nnslots - 1))
		if (!strcmp(d->nodes[d->nslots[j] - 1].kind, kind))
			return d->nslots[j] - 1;
	if (d->nnodes == d->capnodes) {
		size_t nc = d->capnodes ? d->capnodes * 2 : 32;
		struct node *n = reallocarray(d->nodes, nc, sizeof(*n));
		if (!n)
			goto nomem;
		d->nodes = n;
		d->capnodes = nc;
	}
	struct node *n = &d->nodes[d->nnodes];
	*n = (struct node){.kind = strdup(kind), .level = level};
	if (!n->kind)
		goto nomem;
	d->nslots[j] = (uint32_t)++d->nnodes;
	return (uint32_t)(d->nnodes - 1);
nomem:
	d->failed = true;
	return UINT32_MAX;
}

static bool rehash_edges(struct dot *d)
{
	size_t ns = d->neslots ? d->neslots * 2 : 64;
	uint32_t *sl = calloc(ns, sizeof(*sl));
	if (!sl)
		return false;
	for (size_t i = 0; i < d->nedges; i++) {
		size_t j = pair_hash(d->edges[i].from, d->edges[i].to) & (ns - 1);
		while (sl[j])
			j = (j + 1) & (ns - 1);
		sl[j] = (uint32_t)i + 1;
	}
	free(d->eslots);
	d->eslots = sl;
	d->neslots = ns;
	return true;
}

// Counts one reference from node @from to node @to, labelled @label.
static void add_edge(struct dot *d, uint32_t from, uint32_t to, const char *label)
{
	if ((d->nedges + 1) * 2 > d->neslots && !rehash_edges(d)) {
		d->failed = true;
		return;
	}
	size_t j = pair_hash(from, to) & (d->neslots - 1);
	struct dedge *e = NULL;
	for (; d->eslots[j]; j = (j + 1) & (d->neslots - 1)) {
		struct dedge *c = &d->edges[d->eslots[j] - 1];
		if (c->from == from && c->to == to) {
			e = c;
			break;
		}
	}
	if (!e) {
		if (d->nedges == d->capedges) {
			size_t nc = d->capedges ? d->capedges * 2 : 64;
			struct dedge *ne = reallocarray(d->edges, nc, sizeof(*ne));
			if (!ne) {
				d->failed = true;
				return;
			}
			d->edges = ne;
			d->capedges = nc;
		}
		e = &d->edges[d->nedges];
		*e = (struct dedge){.from = from, .to = to, .label_unique = true};
		snprintf(e->label, sizeof(e->label), "%s", label);
		d->eslots[j] = (uint32_t)++d->nedges;
	} else if (e->label_unique && strcmp(e->label, label)) {
		e->label_unique = false;
	}
	e->count++;
}

// A string in a dot "quoted string": quotes and backslashes escaped.
static void dot_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '\n') {
			fputs("\\n", out); // a line break in a label
			continue;
		}
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if ((unsigned char)*s >= 0x80) {
			// (Graphviz refuses bytes that are no UTF-8: U+FFFD.)
			size_t n = ph_utf8_length((const unsigned char *)s);
			if (n)
				fwrite(s, 1, n, out), s += n - 1;
			else
				fputs("\xef\xbf\xbd", out);
		} else if ((unsigned char)*s >= 0x20) {
			fputc(*s, out);
		}
	}
	fputc('"', out);
}

static int by_objects(const void *x, const void *y, void *arg)
{
	const struct node *nodes = arg;
	const struct node *a = &nodes[*(const uint32_t *)x], *b = &nodes[*(const uint32_t *)y];
	if (a->objects != b->objects)
		return a->objects > b->objects ? -1 : 1;
	return strcmp(a->kind, b->kind);
}

struct ph_error *ph_dot_write(FILE *out, const struct ph_graph *g, const char *kind,
			      const uint32_t *objs, size_t n, const struct ph_dot_options *opt)
{
	const struct ph_snapshot *s = g->snap;
	struct dot d = {.g = g};
	struct ph_error *err = NULL;
	uint32_t *node_of = malloc((s->nobjects + 1) * sizeof(uint32_t));
	uint32_t *frontier = malloc((s->nobjects + 1) * sizeof(uint32_t));
	uint32_t *next = malloc((s->nobjects + 1) * sizeof(uint32_t));
	uint32_t *level_nodes = NULL;
	if (!node_of || !frontier || !next)
		goto nomem;
	memset(node_of, 0xff, (s->nobjects + 1) * sizeof(uint32_t));
	uint32_t target = node_of_kind(&d, kind, 0);
	if (target == UINT32_MAX)
		goto nomem;
	d.nodes[target].target = true;
	size_t nf = 0;
	for (size_t k = 0; k < n; k++) {
		if (node_of[objs[k]] != UINT32_MAX)
			continue;
		node_of[objs[k]] = target;
		d.nodes[target].objects++;
		frontier[nf++] = objs[k];
	}
	for (uint32_t level = 1; level <= opt->depth && nf && !d.failed; level++) {
		size_t first_new = d.nnodes, nn = 0;
		for (size_t k = 0; k < nf && !d.failed; k++) {
			uint32_t t = frontier[k];
			for (uint32_t j = g->in_start[t]; j < g->in_start[t + 1] && !d.failed; j++) {
				uint32_t src = g->in_src[j];
				char label[256];
				if (src & PH_IN_ROOT) {
					// A local of a thread's frame (3.11+ interpreter
					// frames), an atexit callback's function or arguments…
					uint32_t e = src & ~PH_IN_ROOT;
					const char *rk = ph_graph_root_edge_kind(g->snap, e);
					uint32_t r = node_of_kind(&d, rk, level);
					if (r != UINT32_MAX) {
						d.nodes[r].root = true;
						if (strcmp(rk, "<frame locals>"))
							ph_graph_edge_label(g, PH_NONE, &g->snap->root_edges[e],
									    label, sizeof(label));
						add_edge(&d, r, node_of[t],
							 strcmp(rk, "<frame locals>") ? label : "local");
					}
					continue;
				}
				uint32_t f = g->edge_from[src];
				if (node_of[f] == UINT32_MAX) {
					char fk[256];
					ph_graph_display_kind(g, f, fk, sizeof(fk));
					uint32_t nd = node_of_kind(&d, fk, level);
					if (nd == UINT32_MAX)
						break;
					node_of[f] = nd;
					d.nodes[nd].objects++;
					if (!d.nodes[nd].hidden)
						next[nn++] = f;
				}
				ph_graph_edge_label(g, f, &s->edges[src], label, sizeof(label));
				ph_path_group(label);
				add_edge(&d, node_of[f], node_of[t], label);
			}
		}
		// Draw the largest new kinds of this level; merge the others.
		size_t nnew = d.nnodes - first_new;
		if (nnew > opt->breadth) {
			free(level_nodes);
			level_nodes = malloc(nnew * sizeof(uint32_t));
			if (!level_nodes)
				goto nomem;
			for (size_t k = 0; k < nnew; k++)
				level_nodes[k] = (uint32_t)(first_new + k);
			qsort_r(level_nodes, nnew, sizeof(uint32_t), by_objects, d.nodes);
			for (size_t k = opt->breadth; k < nnew; k++)
				if (!d.nodes[level_nodes[k]].root)
					d.nodes[level_nodes[k]].hidden = true;
			size_t m = 0;
			for (size_t k = 0; k < nn; k++)
				if (!d.nodes[node_of[next[k]]].hidden)
					next[m++] = next[k];
			nn = m;
		}
		uint32_t *tmp = frontier;
		frontier = next;
		next = tmp;
		nf = nn;
	}
	if (d.failed)
		goto nomem;

	// Output. Hidden kinds of a level are one node "N other kinds".
	uint64_t other_objects[64] = {0}, other_kinds[64] = {0};
	for (size_t i = 0; i < d.nnodes; i++)
		if (d.nodes[i].hidden) {
			uint32_t l = d.nodes[i].level < 63 ? d.nodes[i].level : 63;
			other_objects[l] += d.nodes[i].objects;
			other_kinds[l]++;
		}
	char title[512];
	snprintf(title, sizeof(title),
		 "Referrers of %zu object%s of kind %s (depth %u, at most %u new kinds per level)", n,
		 n == 1 ? "" : "s", kind, opt->depth, opt->breadth);
	fputs("digraph pyheap {\n  graph [label=", out);
	dot_string(out, title);
	fputs(", labelloc=t, fontname=\"Helvetica\"];\n"
	      "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eeeeee\", "
	      "fontname=\"Helvetica\"];\n"
	      "  edge [fontname=\"Helvetica\", fontsize=10];\n",
	      out);
	for (size_t i = 0; i < d.nnodes; i++) {
		const struct node *nd = &d.nodes[i];
		if (nd->hidden)
			continue;
		char label[400];
		snprintf(label, sizeof(label), "%s\n%" PRIu64 " object%s", nd->kind, nd->objects,
			 nd->objects == 1 ? "" : "s");
		if (nd->root)
			snprintf(label, sizeof(label), "%s", nd->kind);
		fprintf(out, "  n%zu [label=", i);
		dot_string(out, label);
		if (nd->target)
			fputs(", fillcolor=\"#ffcc99\"", out);
		if (nd->root)
			fputs(", shape=ellipse, fillcolor=\"#ccddff\"", out);
		fputs("];\n", out);
	}
	for (int l = 0; l < 64; l++)
		if (other_kinds[l]) {
			char label[128];
			snprintf(label, sizeof(label), "%" PRIu64 " other kinds\n%" PRIu64 " objects",
				 other_kinds[l], other_objects[l]);
			fprintf(out, "  other%d [label=", l);
			dot_string(out, label);
			fputs(", style=\"rounded,dashed\"];\n", out);
		}
	// Edges from hidden kinds are merged per level (their counts added).
	uint64_t *merged = calloc(64 * (d.nnodes ? d.nnodes : 1), sizeof(uint64_t));
	if (!merged)
		goto nomem;
	for (size_t i = 0; i < d.nedges; i++) {
		const struct dedge *e = &d.edges[i];
		const struct node *from = &d.nodes[e->from];
		if (d.nodes[e->to].hidden)
			continue; // hidden kinds are not expanded; only their own referrers remain
		if (from->hidden) {
			merged[(from->level < 63 ? from->level : 63) * d.nnodes + e->to] += e->count;
			continue;
		}
		// One label for all the references ("key 'leak'", "[*]"), else a count.
		const char *label = e->label_unique ? e->label + (e->label[0] == ' ') : "";
		char full[200];
		if (label[0] && e->count > 1)
			snprintf(full, sizeof(full), "%s \xc3\x97%" PRIu64, label, e->count);
		else if (label[0])
			snprintf(full, sizeof(full), "%s", label);
		else
			snprintf(full, sizeof(full), "%" PRIu64 " refs", e->count);
		fprintf(out, "  n%u -> n%u [label=", e->from, e->to);
		dot_string(out, full);
		fputs("];\n", out);
	}
	for (int l = 0; l < 64; l++)
		for (size_t t = 0; t < d.nnodes; t++)
			if (merged[(size_t)l * d.nnodes + t])
				fprintf(out, "  other%d -> n%zu [label=\"%" PRIu64 " refs\", style=dashed];\n",
					l, t, merged[(size_t)l * d.nnodes + t]);
	fputs("}\n", out);
	free(merged);
	goto out;
nomem:
	err = &ph_error_nomem;
out:
	for (size_t i = 0; i < d.nnodes; i++)
		free(d.nodes[i].kind);
	free(d.nodes);
	free(d.nslots);
	free(d.edges);
	free(d.eslots);
	free(node_of);
	free(frontier);
	free(next);
	free(level_nodes);
	return err;
}
