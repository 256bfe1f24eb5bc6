/* SPDX-License-Identifier: MIT */
#include "referrers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dominators.h"
#include "nameindex.h"
#include "partition.h"
#include "topk.h"

/* ---- a small string → count map ---- */

struct counter {
	struct ph_count_row *rows;
	size_t n, cap;
	struct ph_name_index ix;
};

static const char *row_name(const void *rows, size_t i)
{
	return ((const struct ph_count_row *)rows)[i].name;
}

// Appends a row without looking names up (also for rows parallel to another
// counter's).
static bool counter_append(struct counter *c, const char *name)
{
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		struct ph_count_row *r = reallocarray(c->rows, nc, sizeof(*r));
		if (!r)
			return false;
		c->rows = r;
		c->cap = nc;
	}
	c->rows[c->n].name = strdup(name);
	if (!c->rows[c->n].name)
		return false;
	c->rows[c->n++].count = 0;
	return true;
}

static size_t counter_find(const struct counter *c, const char *name)
{
	return ph_name_index_find(&c->ix, name, c->rows, row_name);
}

static bool counter_add(struct counter *c, const char *name, uint64_t by)
{
	size_t i = counter_find(c, name);
	if (i == SIZE_MAX) {
		if (!counter_append(c, name) || !ph_name_index_add(&c->ix, c->n - 1, c->rows, row_name))
			return false;
		i = c->n - 1;
	}
	c->rows[i].count += by;
	return true;
}

static int by_count(const void *a, const void *b)
{
	const struct ph_count_row *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void counter_sort(struct counter *c)
{
	if (c->n) // qsort(NULL, 0, …) is undefined
		qsort(c->rows, c->n, sizeof(*c->rows), by_count);
	ph_name_index_deinit(&c->ix);
}

void ph_count_rows_free(struct ph_count_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i].name);
	free(rows);
}

void ph_referrers_deinit(struct ph_referrers *r)
{
	free(r->kind);
	ph_count_rows_free(r->by_kind, r->nby_kind);
	ph_count_rows_free(r->combos, r->ncombos);
	ph_count_rows_free(r->weak, r->nweak);
	ph_count_rows_free(r->paths, r->npaths);
	for (size_t i = 0; i < r->npattern; i++) {
		free(r->pattern[i].kind);
		free(r->pattern[i].via);
	}
	free(r->pattern);
	for (size_t i = 0; i < r->nlargest; i++)
		free(r->largest[i].path);
	memset(r, 0, sizeof(*r));
}

/* ---- selection ---- */

static const char *last_component(const char *k)
{
	const char *d = strrchr(k, '.');
	return d ? d + 1 : k;
}

static bool kind_matches(const char *kind, const char *what)
{
	if (!strcmp(kind, what))
		return true;
	bool want_dict = !strncmp(what, "dict of ", 8);
	bool is_dict = !strncmp(kind, "dict of ", 8);
	if (want_dict != is_dict)
		return false;
	if (want_dict) {
		kind += 8;
		what += 8;
	}
	size_t kl = strlen(kind), wl = strlen(what);
	return kl > wl && kind[kl - wl - 1] == '.' && !strcmp(kind + kl - wl, what);
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return 1000;
	size_t prev[65], cur[65];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t c = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < c)
				c = prev[j] + 1;
			if (cur[j - 1] + 1 < c)
				c = cur[j - 1] + 1;
			cur[j] = c;
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

static struct ph_error *select_kind(const struct ph_partition *p, const char *what,
				    const char **ret)
{
	const char *found = NULL;
	size_t nfound = 0;
	for (size_t i = 0; i < p->nrows; i++)
		if (!strcmp(p->rows[i].kind, what)) {
			*ret = p->rows[i].kind;
			return NULL;
		}
	char list[2048] = "";
	size_t len = 0;
	for (size_t i = 0; i < p->nrows; i++) {
		if (!kind_matches(p->rows[i].kind, what))
			continue;
		found = p->rows[i].kind;
		nfound++;
		if (len < sizeof(list) - 200)
			len += (size_t)snprintf(list + len, sizeof(list) - len, "\n  %s (%llu objects)",
						p->rows[i].kind, (unsigned long long)p->rows[i].count);
	}
	if (nfound == 1) {
		*ret = found;
		return NULL;
	}
	if (nfound > 1)
		return ph_error_create(PH_ERR_USAGE,
				       "--referrers %s: %zu kinds match; name one of them:%s", what,
				       nfound, list);
	// No match: the closest kinds by their last component.
	size_t best[5] = {0};
	size_t bestd[5] = {SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX};
	for (size_t i = 0; i < p->nrows; i++) {
		size_t d = edit_distance(last_component(p->rows[i].kind), last_component(what));
		if (strstr(p->rows[i].kind, what))
			d = d > 2 ? d - 2 : 0;
		for (int k = 0; k < 5; k++) {
			if (d < bestd[k]) {
				memmove(&bestd[k + 1], &bestd[k], (size_t)(4 - k) * sizeof(size_t));
				memmove(&best[k + 1], &best[k], (size_t)(4 - k) * sizeof(size_t));
				bestd[k] = d;
				best[k] = i;
				break;
			}
		}
	}
	len = 0;
	list[0] = '\0';
	for (int k = 0; k < 5 && bestd[k] != SIZE_MAX; k++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", k ? ", " : "",
					p->rows[best[k]].kind);
	return ph_error_create(PH_ERR_USAGE, "--referrers %s: no objects of that kind; closest kinds: %s",
			       what, list);
}

/* ---- analysis ---- */

static const char *edge_source_kind(const struct ph_graph *g, uint32_t src, char *buf, size_t cap)
{
	const struct ph_snapshot *s = g->snap;
	if (src & PH_IN_ROOT) {
		snprintf(buf, cap, "%s", ph_graph_root_edge_kind(s, src & ~PH_IN_ROOT));
		return buf;
	}
	ph_graph_display_kind(g, g->edge_from[src], buf, cap);
	// Referrer tables group module dicts as one kind, like the partition.
	if (!strncmp(buf, "dict of module ", 15))
		buf[14] = '\0';
	(void)s;
	return buf;
}

// Referrer objects of a set (bitmap @in_set), excluding @exclude, grouped by
// display kind: appended as pattern nodes, recursively.
struct pattern_ctx {
	const struct ph_graph *g;
	const struct ph_referrers_options *opt;
	struct ph_pattern_node *nodes;
	size_t n, cap;
	uint8_t *mark;  // per object: 1 = on the current chain of sets
	uint32_t *stamp;
	uint32_t gen;
	bool failed;
};

static void pattern_add(struct pattern_ctx *c, uint32_t depth, uint64_t count, const char *kind,
			const char *via)
{
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 32;
		struct ph_pattern_node *r = reallocarray(c->nodes, nc, sizeof(*r));
		if (!r) {
			c->failed = true;
			return;
		}
		c->nodes = r;
		c->cap = nc;
	}
	c->nodes[c->n++] = (struct ph_pattern_node){depth, count, strdup(kind), via ? strdup(via) : NULL};
}

struct group {
	char kind[256];
	uint32_t *objs;
	size_t n, cap;
	uint64_t targets;   // objects of the previous set they refer to
	char label[128];    // the one edge label from the group to the set, if unique
	bool label_unique;
	uint32_t dist;      // the smallest distance from a root among its objects
};

static void pattern_level(struct pattern_ctx *c, const uint32_t *set, size_t nset, uint32_t depth)
{
	const struct ph_graph *g = c->g;
	const struct ph_snapshot *s = g->snap;
	if (depth > c->opt->depth || c->failed)
		return;
	struct group *groups = NULL;
	size_t ng = 0, capg = 0;
	uint32_t gen = ++c->gen; // objects stamped with gen are in a group already
	for (size_t k = 0; k < nset; k++) {
		uint32_t t = set[k];
		size_t hit[32], nhit = 0;
		for (uint32_t j = g->in_start[t]; j < g->in_start[t + 1]; j++) {
			uint32_t src = g->in_src[j];
			if (src & PH_IN_ROOT)
				continue;
			uint32_t from = g->edge_from[src];
			if (c->mark[from])
				continue;
			char kind[256];
			ph_graph_display_kind(g, from, kind, sizeof(kind));
			size_t gi;
			for (gi = 0; gi < ng; gi++)
				if (!strcmp(groups[gi].kind, kind))
					break;
			if (gi == ng) {
				if (ng == capg) {
					size_t nc = capg ? capg * 2 : 8;
					struct group *ngp = reallocarray(groups, nc, sizeof(*ngp));
					if (!ngp) {
						c->failed = true;
						break;
					}
					groups = ngp;
					capg = nc;
				}
				memset(&groups[ng], 0, sizeof(groups[ng]));
				snprintf(groups[ng].kind, sizeof(groups[ng].kind), "%s", kind);
				groups[ng].label_unique = true;
				ng++;
			}
			bool seen_group = false;
			for (size_t q = 0; q < nhit; q++)
				seen_group |= hit[q] == gi;
			if (!seen_group && nhit < 32)
				hit[nhit++] = gi;
			struct group *gr = &groups[gi];
			char label[128];
			ph_graph_edge_label(g, from, &s->edges[src], label, sizeof(label));
			if (!gr->label[0] && gr->label_unique)
				snprintf(gr->label, sizeof(gr->label), "%s", label);
			else if (strcmp(gr->label, label))
				gr->label_unique = false;
			if (c->stamp[from] != gen) {
				c->stamp[from] = gen;
				if (gr->n == gr->cap) {
					size_t nc = gr->cap ? gr->cap * 2 : 16;
					uint32_t *o = reallocarray(gr->objs, nc, sizeof(*o));
					if (!o) {
						c->failed = true;
						break;
					}
					gr->objs = o;
					gr->cap = nc;
				}
				gr->objs[gr->n++] = from;
			}
		}
		// Count the target once for each group that refers to it.
		for (size_t q = 0; q < nhit; q++)
			groups[hit[q]].targets++;
	}
	// Largest groups first, then the ones closest to a root (the chain that
	// explains why the objects are alive), at most opt->breadth of them.
	for (size_t gi = 0; gi < ng; gi++) {
		groups[gi].dist = UINT32_MAX;
		for (size_t k = 0; k < groups[gi].n; k++)
			if (g->dist[groups[gi].objs[k]] < groups[gi].dist)
				groups[gi].dist = g->dist[groups[gi].objs[k]];
	}
	for (size_t a = 0; a < ng; a++)
		for (size_t b = a + 1; b < ng; b++)
			if (groups[b].targets > groups[a].targets ||
			    (groups[b].targets == groups[a].targets && groups[b].dist < groups[a].dist) ||
			    (groups[b].targets == groups[a].targets && groups[b].dist == groups[a].dist &&
			     groups[b].n > groups[a].n)) {
				struct group tmp = groups[a];
				groups[a] = groups[b];
				groups[b] = tmp;
			}
	for (size_t gi = 0; gi < ng; gi++) {
		struct group *gr = &groups[gi];
		if (gi < c->opt->breadth && !c->failed) {
			char via[200];
			if (gr->label_unique && gr->label[0])
				snprintf(via, sizeof(via), "via %s", gr->label);
			else
				snprintf(via, sizeof(via), "<- %llu objects", (unsigned long long)gr->targets);
			pattern_add(c, depth, gr->n, gr->kind, via);
			for (size_t k = 0; k < gr->n; k++)
				c->mark[gr->objs[k]] = 1;
			pattern_level(c, gr->objs, gr->n, depth + 1);
			for (size_t k = 0; k < gr->n; k++)
				c->mark[gr->objs[k]] = 0;
		}
		free(gr->objs);
	}
	free(groups);
}

// Whether @what is the name of the dict type, whose objects the partition
// splits by owner ("dict of X", "dict (no owner)", "dict of module").
static bool names_dict_type(const struct ph_snapshot *s, const char *what)
{
	for (size_t t = 0; t < s->ntypes; t++)
		if (s->types[t].is_dict && s->types[t].name && !strcmp(s->types[t].name, what))
			return true;
	return false;
}

struct ph_error *ph_referrers_select(const struct ph_graph *g, const char *what, uint32_t **ret,
				     size_t *n, char **kind, bool *one)
{
	const struct ph_snapshot *s = g->snap;
	struct ph_error *err = NULL;
	uint32_t *targets = malloc((s->nobjects + 1) * sizeof(uint32_t));
	struct ph_partition part = {0};
	char *name = NULL;
	if (!targets)
		return &ph_error_nomem;
	size_t nt = 0;
	char kbuf[512];
	bool is_one = !strncmp(what, "0x", 2);
	if (is_one) {
		char *end;
		unsigned long long a = strtoull(what, &end, 16);
		for (size_t i = 0; i < s->nobjects && !*end; i++)
			if (s->objects[i].address == a)
				targets[nt++] = (uint32_t)i;
		if (!nt) {
			err = ph_error_create(PH_ERR_USAGE,
					      "--referrers %s: no object at that address in the heap", what);
			goto out;
		}
		const char *k = ph_snapshot_kind(s, targets[0], kbuf, sizeof(kbuf));
		if (asprintf(&name, "%s at %s", k, what) < 0)
			name = NULL;
	} else if (names_dict_type(s, what)) {
		// Every dict, whatever its owner: the type Heapy's bytype shows,
		// where the partition has a kind per owner.
		for (size_t i = 0; i < s->nobjects; i++)
			if (s->types[s->objects[i].type].is_dict)
				targets[nt++] = (uint32_t)i;
		if (!nt) {
			err = ph_error_create(PH_ERR_USAGE, "--referrers %s: no dict in the heap", what);
			goto out;
		}
		name = strdup("dict (every owner)");
	} else {
		err = ph_partition_compute(s, &part);
		if (err)
			goto out;
		const char *k = NULL;
		err = select_kind(&part, what, &k);
		uint32_t *at = NULL;
		size_t nat = 0;
		if (err && err->code == PH_ERR_USAGE) {
			struct ph_error *perr = ph_graph_select_path(g, what, &at, &nat);
			if (perr) {
				ph_error_destroy(err);
				err = perr;
				goto out;
			}
		}
		if (nat) {
			// No kind, but a path as paths print it: one object, or
			// with "[*]" those of the group.
			ph_error_destroy(err);
			err = NULL;
			memcpy(targets, at, nat * sizeof(*at));
			nt = nat;
			is_one = nat == 1 && !strstr(what, "[*]");
			// (Named "KIND at 0x…", several "KIND at PATH" when they
			// are of one kind.)
			char first[512];
			snprintf(first, sizeof(first), "%s", ph_snapshot_kind(s, at[0], kbuf, sizeof(kbuf)));
			bool same = true;
			for (size_t k = 1; k < nat && same; k++)
				same = !strcmp(ph_snapshot_kind(s, at[k], kbuf, sizeof(kbuf)), first);
			int rc = is_one ? asprintf(&name, "%s at 0x%llx", first,
						   (unsigned long long)s->objects[at[0]].address)
				 : same ? asprintf(&name, "%s at %s", first, what)
					: asprintf(&name, "%s", what);
			if (rc < 0)
				name = NULL;
			free(at);
		} else if (err) {
			if (err->code == PH_ERR_USAGE && strpbrk(what, ".[")) {
				struct ph_error *e = ph_error_create(
					PH_ERR_USAGE, "%s; nor is it the path of an object as paths print "
						      "it (__main__.cache['key'].attr)",
					err->message);
				ph_error_destroy(err);
				err = e;
			}
			goto out;
		} else {
			name = strdup(k);
			for (size_t i = 0; i < s->nobjects; i++)
				if (!strcmp(ph_snapshot_kind(s, i, kbuf, sizeof(kbuf)), k))
					targets[nt++] = (uint32_t)i;
		}
	}
	if (!name)
		err = &ph_error_nomem;
out:
	ph_partition_deinit(&part);
	if (err) {
		free(targets);
		free(name);
		return err;
	}
	*ret = targets;
	*n = nt;
	*kind = name;
	if (one)
		*one = is_one;
	return NULL;
}

struct ph_error *ph_referrers_compute(const struct ph_graph *g, const char *what,
				      const struct ph_referrers_options *opt,
				      struct ph_referrers *ret)
{
	uint32_t *targets;
	size_t n;
	char *kind;
	struct ph_error *err = ph_referrers_select(g, what, &targets, &n, &kind, NULL);
	if (err)
		return err;
	err = ph_referrers_compute_set(g, kind, targets, n, opt, ret);
	free(targets);
	free(kind);
	return err;
}

struct ph_error *ph_referrers_paths(const struct ph_graph *g, const uint32_t *targets, size_t nt,
				    struct ph_count_row **ret, size_t *nret, uint64_t *unreachable_ret)
{
	struct counter paths = {0}, reps = {0};
	uint64_t unreachable = 0;
	for (size_t k = 0; k < nt; k++) {
		char *p = ph_graph_path(g, targets[k]);
		if (!p) {
			unreachable++;
			continue;
		}
		char *form = strdup(p);
		if (!form) {
			free(p);
			goto nomem;
		}
		ph_path_group(form);
		size_t before = paths.n;
		bool ok = counter_add(&paths, form, 1);
		if (ok && paths.n > before) {
			// A new group: its representative is this path, in reps
			// at the same index (rows of reps are never merged by name).
			ok = counter_append(&reps, p);
		} else if (ok) {
			size_t gi = counter_find(&paths, form);
			ph_path_merge(reps.rows[gi].name, p);
		}
		free(form);
		free(p);
		if (!ok)
			goto nomem;
	}
	// Replace each group's name by its merged representative.
	for (size_t i = 0; i < paths.n; i++) {
		free(paths.rows[i].name);
		paths.rows[i].name = reps.rows[i].name;
		reps.rows[i].name = NULL;
	}
	ph_name_index_deinit(&reps.ix);
	ph_count_rows_free(reps.rows, reps.n);
	ph_name_index_deinit(&paths.ix);

	counter_sort(&paths);
	*ret = paths.rows;
	*nret = paths.n;
	*unreachable_ret = unreachable;
	return NULL;
nomem:
	ph_name_index_deinit(&reps.ix);
	ph_count_rows_free(reps.rows, reps.n);
	ph_name_index_deinit(&paths.ix);
	ph_count_rows_free(paths.rows, paths.n);
	return &ph_error_nomem;
}

struct ph_error *ph_referrers_compute_set(const struct ph_graph *g, const char *kind,
					  const uint32_t *targets, size_t nt,
					  const struct ph_referrers_options *opt,
					  struct ph_referrers *ret)
{
	const struct ph_snapshot *s = g->snap;
	struct ph_referrers r = {0};
	struct ph_error *err = NULL;
	uint8_t *is_target = calloc(s->nobjects + 1, 1);
	struct counter by_kind = {0}, combos = {0}, weak = {0};
	if (!is_target) {
		err = &ph_error_nomem;
		goto out;
	}
	r.kind = strdup(kind);
	if (!r.kind) {
		err = &ph_error_nomem;
		goto out;
	}
	for (size_t k = 0; k < nt; k++) {
		is_target[targets[k]] = 1;
		r.objects++;
		r.size += s->objects[targets[k]].size;
	}
	err = ph_graph_retained_set(g, is_target, &r.retained_objects, &r.retained_size);
	if (err)
		goto out;
	// The largest objects, when there are several.
	uint32_t big[PH_REFERRERS_LARGEST];
	uint64_t big_size[PH_REFERRERS_LARGEST];
	size_t nbig = 0;
	for (size_t k = 0; k < nt && nt > 1; k++)
		ph_topk_offer(big, big_size, &nbig, PH_REFERRERS_LARGEST, targets[k],
			      s->objects[targets[k]].size);
	for (size_t k = 0; k < nbig; k++) {
		struct ph_referrers_example *x = &r.largest[r.nlargest++];
		x->address = s->objects[big[k]].address;
		x->size = s->objects[big[k]].size;
		x->path = ph_graph_path(g, big[k]); // (NULL: garbage, or no memory)
	}

	// Referrers by kind, and their combinations.
	for (size_t k = 0; k < nt; k++) {
		uint32_t t = targets[k];
		char kinds[8][256];
		size_t nk = 0;
		bool overflow = false;
		for (uint32_t j = g->in_start[t]; j < g->in_start[t + 1]; j++) {
			char kind[256];
			edge_source_kind(g, g->in_src[j], kind, sizeof(kind));
			if (g->in_src[j] & PH_IN_ROOT)
				r.from_roots++;
			size_t q;
			for (q = 0; q < nk; q++)
				if (!strcmp(kinds[q], kind))
					break;
			if (q == nk) {
				if (nk < 8)
					snprintf(kinds[nk++], 256, "%s", kind);
				else
					overflow = true;
			}
		}
		char combo[1024] = "";
		size_t clen = 0;
		// Sort the kinds so that combinations compare equal.
		for (size_t a = 0; a < nk; a++)
			for (size_t b = a + 1; b < nk; b++)
				if (strcmp(kinds[b], kinds[a]) < 0) {
					char tmp[256];
					memcpy(tmp, kinds[a], 256);
					memcpy(kinds[a], kinds[b], 256);
					memcpy(kinds[b], tmp, 256);
				}
		for (size_t q = 0; q < nk; q++) {
			if (!counter_add(&by_kind, kinds[q], 1)) {
				err = &ph_error_nomem;
				goto out;
			}
			clen += (size_t)snprintf(combo + clen, sizeof(combo) - clen, "%s%s",
						 q ? " | " : "", kinds[q]);
			if (clen >= sizeof(combo))
				clen = sizeof(combo) - 1;
		}
		if (overflow && clen < sizeof(combo) - 8)
			strcat(combo, " | …");
		if (!nk)
			snprintf(combo, sizeof(combo), "<no referrers>");
		if (!counter_add(&combos, combo, 1)) {
			err = &ph_error_nomem;
			goto out;
		}
	}
	for (size_t w = 0; w < s->nweak_edges; w++) {
		if (!is_target[s->weak_edges[w].to])
			continue;
		char kind[256];
		ph_graph_display_kind(g, s->weak_edges[w].from, kind, sizeof(kind));
		if (!counter_add(&weak, kind, 1)) {
			err = &ph_error_nomem;
			goto out;
		}
	}

	err = ph_referrers_paths(g, targets, nt, &r.paths, &r.npaths, &r.unreachable);
	if (err)
		goto out;

	// Reference pattern.
	struct pattern_ctx pc = {.g = g, .opt = opt, .mark = is_target,
				 .stamp = calloc(s->nobjects + 1, sizeof(uint32_t))};
	if (!pc.stamp) {
		err = &ph_error_nomem;
		goto out;
	}
	pattern_add(&pc, 0, nt, r.kind, NULL);
	pattern_level(&pc, targets, nt, 1);
	free(pc.stamp);
	r.pattern = pc.nodes;
	r.npattern = pc.n;
	r.depth = opt->depth;
	if (pc.failed) {
		err = &ph_error_nomem;
		goto out;
	}

	counter_sort(&by_kind);
	counter_sort(&combos);
	counter_sort(&weak);
	r.by_kind = by_kind.rows;
	r.nby_kind = by_kind.n;
	r.combos = combos.rows;
	r.ncombos = combos.n;
	r.weak = weak.rows;
	r.nweak = weak.n;
	by_kind = combos = weak = (struct counter){0};
out:
	ph_name_index_deinit(&by_kind.ix);
	ph_name_index_deinit(&combos.ix);
	ph_name_index_deinit(&weak.ix);
	ph_count_rows_free(by_kind.rows, by_kind.n);
	ph_count_rows_free(combos.rows, combos.n);
	ph_count_rows_free(weak.rows, weak.n);
	free(is_target);
	if (err) {
		ph_referrers_deinit(&r);
		return err;
	}
	*ret = r;
	return NULL;
}

/* ---- what one object holds ---- */

void ph_holds_deinit(struct ph_holds *h)
{
	for (size_t i = 0; i < h->nrows; i++) {
		free(h->rows[i].label);
		free(h->rows[i].value);
	}
	free(h->rows);
	free(h->value);
	memset(h, 0, sizeof(*h));
}

struct holds_ctx {
	const struct ph_graph *g;
	const struct ph_dominators *d;
	struct ph_holds *h;
	size_t limit, cap;
};

static bool holds_add(void *ctx, const char *label, uint32_t target)
{
	struct holds_ctx *c = ctx;
	struct ph_holds *h = c->h;
	h->total++;
	if (c->limit && h->nrows >= c->limit)
		return true;
	if (h->nrows == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		struct ph_holds_row *r = reallocarray(h->rows, nc, sizeof(*r));
		if (!r)
			return false;
		h->rows = r;
		c->cap = nc;
	}
	struct ph_holds_row *r = &h->rows[h->nrows];
	char value[320];
	*r = (struct ph_holds_row){.object = target, .label = strdup(label),
				   .items = ph_graph_items(c->g->snap, target)};
	bool has_value = ph_graph_value(c->g->snap, target, value, sizeof(value));
	if (has_value)
		r->value = strdup(value);
	if (target < c->d->n) {
		r->retained = c->d->retained[target];
		r->retained_count = c->d->retained_count[target];
	}
	h->nrows++;
	return r->label && (!has_value || r->value);
}

typedef bool (*visit_fn)(void *ctx, const char *label, uint32_t target);

// Calls @fn for each reference of @from, with its label (@namespace: its dict
// values read as ".key"): an instance's own __dict__ (a module's) is followed
// by its entries as attributes; a key that is a str, a number, True, False
// or None reads whole in its value's label, other keys (tuples, instances…)
// are references of their own.
static bool visit_refs(const struct ph_graph *g, uint32_t from, bool namespace, int depth,
		       visit_fn fn, void *ctx)
{
	const struct ph_snapshot *s = g->snap;
	char label[512];
	for (uint32_t e = s->edge_start[from]; e < s->edge_start[from + 1]; e++) {
		const struct ph_edge *edge = &s->edges[e];
		uint32_t t = edge->target;
		if (t >= s->nobjects)
			continue;
		const char *tn = s->types[s->objects[t].type].name;
		if (PH_EDGE_KIND(edge->label) == PH_EDGE_DICT_KEY && tn &&
		    (!strcmp(tn, "str") || !strcmp(tn, "int") || !strcmp(tn, "bool") ||
		     !strcmp(tn, "NoneType")))
			continue;
		ph_graph_hop_label(g, from, edge, namespace, label, sizeof(label));
		if (!fn(ctx, label + (label[0] == ' '), t)) // (" local 'x'": "local 'x'")
			return false;
		if (depth == 0 && PH_EDGE_KIND(edge->label) == PH_EDGE_FIELD &&
		    PH_EDGE_PAYLOAD(edge->label) == PH_F_DICT && t != from &&
		    (s->objects[t].owner == from || (s->objects[t].flags & PH_OBJ_MODULE_DICT)) &&
		    !visit_refs(g, t, true, depth + 1, fn, ctx))
			return false;
	}
	return true;
}

static bool is_namespace(const struct ph_snapshot *s, uint32_t i)
{
	return s->objects[i].owner != PH_NONE || (s->objects[i].flags & PH_OBJ_MODULE_DICT);
}

struct ph_error *ph_holds_compute(const struct ph_graph *g, uint32_t object, size_t limit,
				  struct ph_holds *ret)
{
	const struct ph_snapshot *s = g->snap;
	memset(ret, 0, sizeof(*ret));
	if (object >= s->nobjects)
		return ph_error_create(PH_ERR_USAGE, "no object %u in the snapshot", object);
	struct ph_dominators d = {0};
	struct ph_error *err = ph_dominators_compute(g, &d);
	if (err)
		return err;
	struct holds_ctx c = {.g = g, .d = &d, .h = ret, .limit = limit};
	char value[320];
	ret->object = object;
	ret->items = ph_graph_items(s, object);
	bool ok = true;
	if (ph_graph_value(s, object, value, sizeof(value)))
		ok = (ret->value = strdup(value)) != NULL;
	if (ok)
		ok = visit_refs(g, object, is_namespace(s, object), 0, holds_add, &c);
	ph_dominators_deinit(&d);
	if (!ok) {
		ph_holds_deinit(ret);
		return &ph_error_nomem;
	}
	return NULL;
}

/* ---- threads and their stacks ---- */

void ph_stacks_deinit(struct ph_stacks *st)
{
	for (size_t t = 0; t < st->n; t++) {
		struct ph_stack_thread *th = &st->threads[t];
		for (size_t f = 0; f < th->nframes; f++)
			ph_holds_deinit(&th->frames[f].locals);
		free(th->frames);
		ph_holds_deinit(&th->others);
	}
	free(st->threads);
	memset(st, 0, sizeof(*st));
}

// The locals and value stack of object @holder (a frame object, a 3.11+
// coroutine) whose code is @code, as rows into @c, but its edge @skip
// (PH_NONE: none).
static bool object_locals(const struct ph_snapshot *s, struct holds_ctx *c, uint32_t holder,
			  uint32_t code, uint32_t skip)
{
	char label[512];
	for (uint32_t e = s->edge_start[holder]; e < s->edge_start[holder + 1]; e++) {
		const struct ph_edge *edge = &s->edges[e];
		if (PH_EDGE_KIND(edge->label) != PH_EDGE_LOCAL || edge->target >= s->nobjects ||
		    e == skip)
			continue;
		ph_graph_local_label(s, holder, code, edge, label, sizeof(label));
		if (!holds_add(c, label, edge->target))
			return false;
	}
	return true;
}

// The locals and value stack of frame root @r, as rows into @c: its frame
// object's (through 3.10), else the root's own edges (3.11+).
static bool frame_locals(const struct ph_snapshot *s, struct holds_ctx *c, uint32_t r)
{
	const struct ph_root *rt = &s->roots[r];
	char label[512];
	if (rt->object < s->nobjects)
		return object_locals(s, c, rt->object, rt->code, PH_NONE);
	for (uint32_t e = rt->edge_start; e < rt->edge_end && e < s->nroot_edges; e++) {
		const struct ph_edge *edge = &s->root_edges[e];
		if (edge->target >= s->nobjects)
			continue;
		ph_graph_local_label(s, PH_NONE, rt->code, edge, label, sizeof(label));
		if (!holds_add(c, label, edge->target))
			return false;
	}
	return true;
}

static int by_depth(const void *a, const void *b, void *arg)
{
	const struct ph_snapshot *s = arg;
	uint32_t x = ((const struct ph_stack_frame *)a)->root,
		 y = ((const struct ph_stack_frame *)b)->root;
	if (s->roots[x].depth != s->roots[y].depth)
		return s->roots[x].depth < s->roots[y].depth ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int by_thread_retained(const void *a, const void *b)
{
	const struct ph_stack_thread *x = a, *y = b;
	if (x->retained != y->retained)
		return x->retained > y->retained ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

// A row of thread @th's others (what it holds besides its frames), @cap
// the rows' room.
static bool others_add(const struct ph_graph *g, const struct ph_dominators *d,
		       struct ph_stack_thread *th, size_t *cap, const char *label, uint32_t target)
{
	th->others.object = PH_NONE;
	th->others.items = -1;
	struct holds_ctx c = {.g = g, .d = d, .h = &th->others, .cap = *cap};
	bool ok = holds_add(&c, label, target);
	*cap = c.cap;
	return ok;
}

// Each thread's storage in each threading.local (its per-thread dict, the
// values of the local's dict keyed by the thread's key), as a row of the
// thread's others: "threading.local __main__.LOCAL". (The local holds it:
// it counts there in the retained sizes, not in the thread's.)
static bool thread_locals(const struct ph_graph *g, const struct ph_dominators *d,
			  struct ph_stacks *st, size_t *ocap)
{
	const struct ph_snapshot *s = g->snap;
	// Per kind: 0 not looked at, 1 a threading.local or a subclass (its
	// first object has the field), 2 not.
	uint8_t *is_local = calloc(s->ntypes ? s->ntypes : 1, 1);
	if (!is_local)
		return false;
	bool ok = true;
	for (uint32_t i = 0; ok && i < s->nobjects; i++) {
		uint8_t *k = &is_local[s->objects[i].type];
		if (*k == 2)
			continue;
		uint32_t dicts = ph_graph_field(s, i, PH_F_LOCALDICTS);
		if (!*k)
			*k = dicts != PH_NONE ? 1 : 2;
		if (dicts >= s->nobjects)
			continue;
		char *path = NULL, label[600];
		uint32_t key = PH_NONE, key_entry = 0;
		for (uint32_t e = s->edge_start[dicts]; ok && e < s->edge_start[dicts + 1]; e++) {
			const struct ph_edge *edge = &s->edges[e];
			uint32_t kind = PH_EDGE_KIND(edge->label), entry = PH_EDGE_PAYLOAD(edge->label);
			if (kind == PH_EDGE_DICT_KEY) {
				key = edge->target;
				key_entry = entry;
				continue;
			}
			if (kind != PH_EDGE_DICT_VALUE || key == PH_NONE || entry != key_entry ||
			    edge->target >= s->nobjects)
				continue;
			uint32_t t = ph_dominators_thread(d, ph_graph_local_key_thread(s, key));
			if (t == PH_NONE)
				continue;
			if (!path && !(path = ph_graph_path(g, i)))
				path = strdup("");
			if (!path) {
				ok = false;
				break;
			}
			if (*path)
				snprintf(label, sizeof(label), "threading.local %s", path);
			else
				snprintf(label, sizeof(label), "threading.local at 0x%llx",
					 (unsigned long long)s->objects[i].address);
			ok = others_add(g, d, &st->threads[t], &ocap[t], label, edge->target);
		}
		free(path);
	}
	free(is_local);
	return ok;
}

struct ph_error *ph_stacks_compute(const struct ph_graph *g, size_t nlocals,
				   struct ph_stacks *ret)
{
	const struct ph_snapshot *s = g->snap;
	memset(ret, 0, sizeof(*ret));
	struct ph_dominators d = {0};
	struct ph_error *err = ph_dominators_compute(g, &d);
	if (err)
		return err;
	bool ok = (ret->threads = calloc(d.nthreads ? d.nthreads : 1, sizeof(*ret->threads)));
	ret->n = ok ? d.nthreads : 0;
	for (uint32_t t = 0; ok && t < d.nthreads; t++) {
		struct ph_stack_thread *th = &ret->threads[t];
		th->id = d.thread_ids[t];
		th->retained = d.retained[d.n + d.nroots + t];
		th->retained_count = d.retained_count[d.n + d.nroots + t];
	}
	// Frames: counted, then filled, in the roots' order.
	for (size_t r = 0; ok && r < s->nroots; r++) {
		uint32_t t = ph_dominators_thread(&d, s->roots[r].thread_id);
		if (t != PH_NONE && s->roots[r].kind == PH_ROOT_FRAME)
			ret->threads[t].nframes++;
	}
	for (size_t t = 0; ok && t < ret->n; t++) {
		struct ph_stack_thread *th = &ret->threads[t];
		ok = !th->nframes || (th->frames = calloc(th->nframes, sizeof(*th->frames)));
		th->nframes = 0;
	}
	size_t *ocap = ok ? calloc(ret->n ? ret->n : 1, sizeof(*ocap)) : NULL;
	ok = ok && ocap;
	for (size_t r = 0; ok && r < s->nroots; r++) {
		const struct ph_root *rt = &s->roots[r];
		uint32_t t = ph_dominators_thread(&d, rt->thread_id);
		if (t == PH_NONE)
			continue;
		struct ph_stack_thread *th = &ret->threads[t];
		if (rt->kind == PH_ROOT_FRAME) {
			struct ph_stack_frame *f = &th->frames[th->nframes++];
			f->root = (uint32_t)r;
			f->retained = d.retained[d.n + r];
			f->retained_count = d.retained_count[d.n + r];
			f->locals.object = PH_NONE;
			f->locals.items = -1;
			struct holds_ctx c = {.g = g, .d = &d, .h = &f->locals, .limit = nlocals};
			ok = frame_locals(s, &c, (uint32_t)r);
		} else if (rt->object < s->nobjects) {
			// Named after the thread: "thread 0x… (name) state dict".
			char who[320], label[512];
			ph_graph_thread_label(s, rt->thread_id, who, sizeof(who));
			ph_graph_root_label(s, (uint32_t)r, label, sizeof(label));
			size_t wl = strlen(who);
			const char *own = !strncmp(label, who, wl) && label[wl] == ' ' ? label + wl + 1
										  : label;
			ok = others_add(g, &d, th, &ocap[t], own, rt->object);
		}
	}
	ok = ok && thread_locals(g, &d, ret, ocap);
	free(ocap);
	for (size_t t = 0; ok && t < ret->n; t++)
		if (ret->threads[t].nframes)
			qsort_r(ret->threads[t].frames, ret->threads[t].nframes,
				sizeof(*ret->threads[t].frames), by_depth, (void *)s);
	if (ok && ret->n)
		qsort(ret->threads, ret->n, sizeof(*ret->threads), by_thread_retained);
	ph_dominators_deinit(&d);
	if (!ok) {
		ph_stacks_deinit(ret);
		return &ph_error_nomem;
	}
	return NULL;
}

/* ---- asyncio tasks and their await chains ---- */

void ph_tasks_deinit(struct ph_tasks *t)
{
	for (size_t i = 0; i < t->n; i++) {
		for (size_t c = 0; c < t->tasks[i].ncoros; c++)
			ph_holds_deinit(&t->tasks[i].coros[c].locals);
		free(t->tasks[i].coros);
		free(t->tasks[i].name);
	}
	free(t->tasks);
	memset(t, 0, sizeof(*t));
}

// The object whose locals and stack hold coroutine @co's (3.11+: itself;
// through 3.10 its frame object) and its code object.
static uint32_t coro_frame(const struct ph_snapshot *s, uint32_t co, uint32_t *code)
{
	uint32_t f = ph_graph_field(s, co, PH_F_GI_FRAME);
	uint32_t holder = f != PH_NONE ? f : co;
	*code = ph_graph_field(s, holder, PH_F_F_CODE);
	if (*code == PH_NONE)
		*code = ph_graph_field(s, co, PH_F_CODE);
	return holder;
}

// The slot of @holder's value stack that coroutine @co awaits (its top one,
// past the locals; a coroutine suspends only in an await), or PH_NONE.
static uint32_t awaited_edge(const struct ph_snapshot *s, uint32_t holder, uint32_t code)
{
	uint32_t top = PH_NONE, best = 0;
	char label[256];
	for (uint32_t e = s->edge_start[holder]; e < s->edge_start[holder + 1]; e++) {
		const struct ph_edge *edge = &s->edges[e];
		if (PH_EDGE_KIND(edge->label) != PH_EDGE_LOCAL || edge->target >= s->nobjects)
			continue;
		if (top == PH_NONE || PH_EDGE_PAYLOAD(edge->label) >= best) {
			top = e;
			best = PH_EDGE_PAYLOAD(edge->label);
		}
	}
	if (top == PH_NONE)
		return PH_NONE;
	ph_graph_local_label(s, holder, code, &s->edges[top], label, sizeof(label));
	return strncmp(label, "local '", 7) ? top : PH_NONE; // (a named local: not awaited)
}

// Room for one more coroutine (frame) of @t; NULL if out of memory.
static struct ph_task_coro *more_coros(struct ph_task *t, size_t *cap)
{
	if (t->ncoros == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		struct ph_task_coro *c = reallocarray(t->coros, nc, sizeof(*c));
		if (!c)
			return NULL;
		t->coros = c;
		*cap = nc;
	}
	struct ph_task_coro *c = &t->coros[t->ncoros++];
	*c = (struct ph_task_coro){.object = PH_NONE, .code = PH_NONE, .qualname = PH_NONE,
				   .line = -1, .locals = {.object = PH_NONE, .items = -1}};
	return c;
}

static bool add_coro(const struct ph_graph *g, const struct ph_dominators *d, struct ph_task *t,
		     size_t *cap, uint32_t co, size_t nlocals, uint32_t *awaited)
{
	const struct ph_snapshot *s = g->snap;
	struct ph_task_coro *c = more_coros(t, cap);
	if (!c)
		return false;
	c->object = co;
	c->qualname = ph_graph_field(s, co, PH_F_QUALNAME);
	uint32_t holder = coro_frame(s, co, &c->code);
	c->line = ph_snapshot_object_line(s, holder);
	uint32_t aw = awaited_edge(s, holder, c->code);
	*awaited = aw != PH_NONE ? s->edges[aw].target : PH_NONE;
	struct holds_ctx hc = {.g = g, .d = d, .h = &c->locals, .limit = nlocals};
	return object_locals(s, &hc, holder, c->code, aw);
}

// Suspended greenlet @gl's frames into @t, innermost first: through 3.10 its
// frame objects (gr_frame, then f_back...), since 3.11 greenlet's own copies
// (its PH_EDGE_GREENLET edges, by depth).
static bool add_greenlet_frames(const struct ph_graph *g, const struct ph_dominators *d,
				struct ph_task *t, uint32_t gl, size_t nlocals)
{
	const struct ph_snapshot *s = g->snap;
	size_t cap = 0;
	char label[512];
	uint32_t f = PH_NONE, depth = 0;
	bool copies = false; // (3.11+: the frames' slots, code... as edges of their own)
	for (uint32_t e = s->edge_start[gl]; e < s->edge_start[gl + 1]; e++) {
		uint32_t l = s->edges[e].label, p = PH_EDGE_PAYLOAD(l);
		if (PH_EDGE_KIND(l) != PH_EDGE_GREENLET)
			continue;
		if (PH_GR_WHAT(p) == PH_GR_FRAME_OBJ && PH_GR_DEPTH(p) == 0)
			f = s->edges[e].target;
		else
			copies = true;
		if (PH_GR_DEPTH(p) + 1 > depth)
			depth = PH_GR_DEPTH(p) + 1;
	}
	if (!copies && f < s->nobjects) {
		for (uint32_t k = 0; f < s->nobjects && k <= PH_GR_MAX_DEPTH; k++) {
			struct ph_task_coro *c = more_coros(t, &cap);
			if (!c)
				return false;
			c->object = f;
			c->code = ph_graph_field(s, f, PH_F_F_CODE);
			c->line = ph_snapshot_object_line(s, f);
			struct holds_ctx hc = {.g = g, .d = d, .h = &c->locals, .limit = nlocals};
			if (!object_locals(s, &hc, f, c->code, PH_NONE))
				return false;
			f = ph_graph_field(s, f, PH_F_F_BACK);
		}
		return true;
	}
	for (uint32_t k = 0; k < depth && k <= PH_GR_MAX_DEPTH; k++) {
		struct ph_task_coro *c = more_coros(t, &cap);
		if (!c)
			return false;
		struct holds_ctx hc = {.g = g, .d = d, .h = &c->locals, .limit = nlocals};
		for (uint32_t e = s->edge_start[gl]; e < s->edge_start[gl + 1]; e++) {
			const struct ph_edge *edge = &s->edges[e];
			uint32_t p = PH_EDGE_PAYLOAD(edge->label);
			if (PH_EDGE_KIND(edge->label) != PH_EDGE_GREENLET || PH_GR_DEPTH(p) != k ||
			    edge->target >= s->nobjects)
				continue;
			if (PH_GR_WHAT(p) == PH_GR_CODE) {
				c->code = edge->target;
				c->line = ph_snapshot_frame_line(s, gl, k);
			}
			if (PH_GR_WHAT(p) >= PH_GR_SLOTS)
				continue;
			ph_graph_local_label(s, gl, PH_NONE, edge, label, sizeof(label));
			if (!holds_add(&hc, label, edge->target))
				return false;
		}
	}
	return true;
}

static bool has_greenlet_frames(const struct ph_snapshot *s, uint32_t i)
{
	for (uint32_t e = s->edge_start[i]; e < s->edge_start[i + 1]; e++)
		if (PH_EDGE_KIND(s->edges[e].label) == PH_EDGE_GREENLET)
			return true;
	return false;
}

static int by_task_retained(const void *a, const void *b)
{
	const struct ph_task *x = a, *y = b;
	if (x->retained != y->retained)
		return x->retained > y->retained ? -1 : 1;
	return x->object < y->object ? -1 : x->object > y->object;
}

enum { MAX_AWAIT_CHAIN = 256 }; /* coroutines followed per task */

struct ph_error *ph_tasks_compute(const struct ph_graph *g, size_t nlocals, struct ph_tasks *ret)
{
	const struct ph_snapshot *s = g->snap;
	memset(ret, 0, sizeof(*ret));
	struct ph_dominators d = {0};
	struct ph_error *err = ph_dominators_compute(g, &d);
	if (err)
		return err;
	size_t cap = 0;
	// Kinds of other libraries' tasks: named Task (trio.lowlevel.Task,
	// curio's) or _PyTask (asyncio's own in Python).
	uint8_t *task_kind = calloc(s->ntypes ? s->ntypes : 1, 1);
	bool ok = task_kind != NULL;
	for (size_t k = 0; ok && k < s->ntypes; k++) {
		const char *n = s->types[k].name, *last = n ? strrchr(n, '.') : NULL;
		task_kind[k] = last && (!strcmp(last, ".Task") || !strcmp(last, "._PyTask")) &&
			       strcmp(n, "_asyncio.Task");
	}
	for (uint32_t i = 0; ok && i < s->nobjects; i++) {
		// (A task is the object with a task's _coro: _asyncio.Task and
		// its subclasses; a done task has none left.)
		uint32_t co = ph_graph_field(s, i, PH_F_TASK_CORO), nm = PH_NONE;
		bool task = co != PH_NONE || (ph_graph_kind_is(s, i, "_asyncio.Task") &&
					      ph_graph_field(s, i, PH_F_TASK_NAME) != PH_NONE);
		bool other = false;
		if (!task && task_kind[s->objects[i].type]) {
			// Another library's: its coroutine in .coro or ._coro (a
			// coroutine, or a generator-based one), its name in .name
			// or ._name.
			co = ph_graph_attr(s, i, "coro");
			if (co == PH_NONE)
				co = ph_graph_attr(s, i, "_coro");
			other = ph_graph_kind_is(s, co, "coroutine") || ph_graph_kind_is(s, co, "generator");
			if (!other)
				co = PH_NONE;
			nm = ph_graph_attr(s, i, "name");
			if (nm == PH_NONE)
				nm = ph_graph_attr(s, i, "_name");
		}
		bool gl = !task && !other && has_greenlet_frames(s, i);
		if (!task && !gl && !other)
			continue;
		if (ret->n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct ph_task *t = reallocarray(ret->tasks, nc, sizeof(*t));
			if (!t) {
				ok = false;
				break;
			}
			ret->tasks = t;
			cap = nc;
		}
		struct ph_task *t = &ret->tasks[ret->n++];
		*t = (struct ph_task){.object = i, .awaiting = PH_NONE, .retained = d.retained[i],
				      .retained_count = d.retained_count[i], .greenlet = gl,
				      .other = other};
		if (gl) {
			ok = add_greenlet_frames(g, &d, t, i, nlocals);
			continue;
		}
		if (!other)
			nm = ph_graph_field(s, i, PH_F_TASK_NAME);
		const char *text = nm != PH_NONE && (ph_graph_kind_is(s, nm, "str") ||
						     ph_graph_kind_is(s, nm, "int"))
					   ? ph_snapshot_text(s, nm)
					   : NULL;
		if (text) {
			// (3.13 keeps the number of an unnamed task until asked.)
			char buf[64];
			if (ph_graph_kind_is(s, nm, "int"))
				snprintf(buf, sizeof(buf), "Task-%s", text);
			ok = (t->name = strdup(ph_graph_kind_is(s, nm, "int") ? buf : text)) != NULL;
		}
		size_t ccap = 0;
		uint32_t awaited = PH_NONE;
		for (int k = 0; ok && co != PH_NONE && k < MAX_AWAIT_CHAIN; k++) {
			ok = add_coro(g, &d, t, &ccap, co, nlocals, &awaited);
			co = awaited != PH_NONE && (ph_graph_kind_is(s, awaited, "coroutine") ||
						    ph_graph_kind_is(s, awaited, "generator"))
				     ? awaited
				     : PH_NONE;
		}
		// await fut: the future's iterator; the future it iterates.
		uint32_t fut = ph_graph_field(s, awaited, PH_F_FUTURE);
		t->awaiting = fut != PH_NONE ? fut : awaited;
		if (t->awaiting == PH_NONE)
			t->awaiting = other ? ph_graph_attr(s, i, "_fut_waiter")
					    : ph_graph_field(s, i, PH_F_TASK_FUT_WAITER);
		if (t->awaiting != PH_NONE && ph_graph_kind_is(s, t->awaiting, "NoneType"))
			t->awaiting = PH_NONE;
		// (The innermost first.)
		for (size_t a = 0, b = t->ncoros; ok && b > a + 1; a++, b--) {
			struct ph_task_coro tmp = t->coros[a];
			t->coros[a] = t->coros[b - 1];
			t->coros[b - 1] = tmp;
		}
	}
	free(task_kind);
	if (ok && ret->n)
		qsort(ret->tasks, ret->n, sizeof(*ret->tasks), by_task_retained);
	ph_dominators_deinit(&d);
	if (!ok) {
		ph_tasks_deinit(ret);
		return &ph_error_nomem;
	}
	return NULL;
}

/* ---- what the objects of a kind hold, by reference ---- */

void ph_holds_groups_deinit(struct ph_holds_groups *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->rows[i].label);
		free(h->rows[i].kind);
	}
	free(h->rows);
	memset(h, 0, sizeof(*h));
}

struct group_ref {
	uint32_t group, target;
};

struct groups_ctx {
	const struct ph_snapshot *s;
	bool keys;             /* dict keys as "[*]" too, not only indexes */
	struct counter groups; /* "label\tkind": references */
	size_t keyed;          /* groups of one dict key ("['k']") */
	struct group_ref *refs;
	size_t nrefs, cap;
};

enum { HOLDS_KEYS_MAX = 64 /* groups of one key each at most, else keys as "[*]" */ };

static bool group_add(void *ctx, const char *label, uint32_t target)
{
	struct groups_ctx *c = ctx;
	char key[1024], kind[256];
	size_t n = (size_t)snprintf(key, sizeof(key) - 300, "%s", label);
	if (n >= sizeof(key) - 300)
		n = sizeof(key) - 301;
	// Items by index are one group ("[*]"); so are a dict's entries when
	// its keys are many (a map, not a record).
	if (c->keys || (key[0] == '[' && strspn(key + 1, "0123456789") == n - 2 && key[n - 1] == ']'))
		ph_path_group(key);
	n = strlen(key);
	bool one_key = !strncmp(key, "['", 2);
	snprintf(key + n, sizeof(key) - n, "\t%s",
		 ph_snapshot_kind(c->s, target, kind, sizeof(kind)));
	size_t before = c->groups.n;
	if (!counter_add(&c->groups, key, 1))
		return false;
	c->keyed += one_key && c->groups.n > before;
	if (c->nrefs == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 1024;
		struct group_ref *r = reallocarray(c->refs, nc, sizeof(*r));
		if (!r)
			return false;
		c->refs = r;
		c->cap = nc;
	}
	c->refs[c->nrefs++] = (struct group_ref){(uint32_t)counter_find(&c->groups, key), target};
	return true;
}

static int by_group_target(const void *a, const void *b)
{
	const struct group_ref *x = a, *y = b;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return x->target < y->target ? -1 : x->target > y->target;
}

static int by_retained(const void *a, const void *b)
{
	const struct ph_holds_group *x = a, *y = b;
	if (x->retained != y->retained)
		return x->retained > y->retained ? -1 : 1;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->label, y->label);
}

struct ph_error *ph_holds_groups_compute(const struct ph_graph *g, const uint32_t *objs, size_t n,
					 size_t limit, struct ph_holds_groups *ret)
{
	const struct ph_snapshot *s = g->snap;
	memset(ret, 0, sizeof(*ret));
	struct ph_dominators d = {0};
	struct ph_error *err = ph_dominators_compute(g, &d);
	if (err)
		return err;
	struct groups_ctx c = {.s = s};
	bool ok = true;
	for (int pass = 0; pass < 2 && ok; pass++) {
		for (size_t k = 0; k < n && ok; k++)
			if (objs[k] < s->nobjects)
				ok = visit_refs(g, objs[k], is_namespace(s, objs[k]), 0, group_add, &c);
		if (c.keyed <= HOLDS_KEYS_MAX)
			break;
		// Too many keys to list: again, with the keys grouped.
		ph_name_index_deinit(&c.groups.ix);
		ph_count_rows_free(c.groups.rows, c.groups.n);
		memset(&c.groups, 0, sizeof(c.groups));
		c.keys = true;
		c.keyed = c.nrefs = 0;
	}
	size_t ng = c.groups.n;
	struct ph_holds_group *rows = ok ? calloc(ng ? ng : 1, sizeof(*rows)) : NULL;
	if (rows) {
		// Each group's references, and its distinct objects' sizes.
		if (c.nrefs)
			qsort(c.refs, c.nrefs, sizeof(*c.refs), by_group_target);
		for (size_t i = 0; i < c.nrefs; i++) {
			struct ph_holds_group *r = &rows[c.refs[i].group];
			uint32_t t = c.refs[i].target;
			r->refs++;
			if (i && c.refs[i - 1].group == c.refs[i].group && c.refs[i - 1].target == t)
				continue;
			r->objects++;
			r->size += s->objects[t].size;
			r->retained += t < d.n ? d.retained[t] : 0;
		}
		for (size_t i = 0; i < ng && ok; i++) {
			const char *name = c.groups.rows[i].name;
			const char *tab = strchr(name, '\t');
			rows[i].label = strndup(name, tab ? (size_t)(tab - name) : strlen(name));
			rows[i].kind = strdup(tab ? tab + 1 : "");
			ok = rows[i].label && rows[i].kind;
		}
	}
	ret->rows = rows;
	ret->n = rows ? ng : 0;
	ret->sources = n;
	if (!rows || !ok) {
		ph_holds_groups_deinit(ret);
		ok = false;
	} else {
		if (ng)
			qsort(rows, ng, sizeof(*rows), by_retained);
		ret->total = ng;
		if (limit && ret->n > limit) {
			for (size_t i = limit; i < ret->n; i++) {
				free(rows[i].label);
				free(rows[i].kind);
			}
			ret->n = limit;
		}
	}
	ph_name_index_deinit(&c.groups.ix);
	ph_count_rows_free(c.groups.rows, c.groups.n);
	free(c.refs);
	ph_dominators_deinit(&d);
	return ok ? NULL : &ph_error_nomem;
}
