/* SPDX-License-Identifier: MIT */
#include "snapshot.h"

#include <stdio.h>
#include <stdlib.h>

struct ph_snapshot *ph_snapshot_create(void)
{
	return calloc(1, sizeof(struct ph_snapshot));
}

static void free_names(char **names, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void ph_snapshot_destroy(struct ph_snapshot *snap)
{
	if (!snap)
		return;
	for (size_t i = 0; i < snap->ntypes; i++) {
		free(snap->types[i].name);
		free_names(snap->types[i].attr_names, snap->types[i].nattr_names);
		free_names(snap->types[i].slot_names, snap->types[i].nslot_names);
	}
	free(snap->types);
	free(snap->objects);
	free(snap->edge_start);
	free(snap->edges);
	free(snap->python_path);
	free(snap->core_path);
	free(snap->layout_source);
	free(snap->truncated_reason);
	free(snap->roots);
	free(snap->root_edges);
	free(snap->weak_edges);
	free(snap->text);
	free(snap->strings);
	free(snap->pymalloc.arena_list);
	free(snap->sparse_tables);
	free(snap->object_site);
	free(snap->sites);
	free(snap->site_frames);
	for (size_t i = 0; i < snap->nsite_files; i++)
		free(snap->site_files[i]);
	free(snap->site_files);
	free(snap);
}

const char *ph_snapshot_kind(const struct ph_snapshot *snap, size_t i, char *buf, size_t cap)
{
	const struct ph_object *o = &snap->objects[i];
	const struct ph_type *t = &snap->types[o->type];
	if (!t->is_dict)
		return t->name;
	if (o->flags & PH_OBJ_MODULE_DICT)
		return "dict of module";
	if (o->owner == PH_NONE)
		return "dict (no owner)";
	const struct ph_object *own = &snap->objects[o->owner];
	snprintf(buf, cap, "dict of %s", snap->types[own->type].name);
	return buf;
}
