/* SPDX-License-Identifier: MIT */
/*
 * _Py_DebugOffsets, as laid out by CPython 3.13 (Include/internal/
 * pycore_runtime.h) and 3.14 (Include/internal/pycore_debug_offsets.h): a
 * char[8] cookie then uint64_t members only, grouped per described struct,
 * most groups starting with that struct's size. 3.14 inserted members in the
 * middle of groups (interpreter_state.threads_main after threads_head) and new
 * groups (set_object before dict_object), so each version has its own member
 * list here; the 3.13 list was checked against the DWARF of 3.13.0, the 3.14
 * list against py-spy's bindgen output for v3.14.0 and the notes (same member
 * list in 3.14.7).
 */
#include "debug_offsets.h"
#include "bytes.h"

#include <stdio.h>
#include <string.h>

enum member_kind {
	M_SIZE,  /* sizeof the group's struct: starts a group */
	M_OFF,   /* an offset inside the group's struct */
	M_VALUE, /* anything else (a constant, an offset into another struct): not checked */
};

enum { V13 = 1, V14 = 2, VALL = V13 | V14 };

enum extra_size {
	E_NONE, E_RUNTIME, E_INTERP, E_TSTATE, E_PYOBJECT, E_TUPLE, E_LIST, E_DICT, E_SET, E_LONG,
	E_BYTES,
};

struct member {
	const char *name;
	uint8_t kind;
	uint8_t width;    /* bytes the member occupies in its struct (M_OFF) */
	uint8_t versions;
	int16_t field;    /* offsetof(struct ph_layout, x), or -1 */
	uint8_t extra;    /* enum extra_size for sizes the layout has no field for */
	uint32_t max;     /* M_SIZE: largest plausible size */
};

#define F(id) ((int16_t)offsetof(struct ph_layout, id))
#define SIZE(n, v, field, extra, max) {n, M_SIZE, 0, v, field, extra, max}
#define OFF(n, w, v, field) {n, M_OFF, w, v, field, E_NONE, 0}
#define VAL(n, v) {n, M_VALUE, 0, v, -1, E_NONE, 0}

static const struct member members[] = {
	SIZE("runtime_state.size", VALL, -1, E_RUNTIME, 64u << 20),
	OFF("runtime_state.finalizing", 8, VALL, F(rt_finalizing)),
	OFF("runtime_state.interpreters_head", 8, VALL, F(rt_interpreters_head)),

	SIZE("interpreter_state.size", VALL, -1, E_INTERP, 64u << 20),
	OFF("interpreter_state.id", 8, VALL, -1),
	OFF("interpreter_state.next", 8, VALL, F(is_next)),
	OFF("interpreter_state.threads_head", 8, VALL, F(is_threads_head)),
	OFF("interpreter_state.threads_main", 8, V14, -1),
	OFF("interpreter_state.gc", 8, VALL, F(is_gc)),
	OFF("interpreter_state.imports_modules", 8, VALL, F(is_modules)),
	OFF("interpreter_state.sysdict", 8, VALL, F(is_sysdict)),
	OFF("interpreter_state.builtins", 8, VALL, F(is_builtins)),
	OFF("interpreter_state.ceval_gil", 8, VALL, -1),
	OFF("interpreter_state.gil_runtime_state", 8, VALL, -1),
	VAL("interpreter_state.gil_runtime_state_enabled", VALL),
	OFF("interpreter_state.gil_runtime_state_locked", 4, VALL, -1),
	OFF("interpreter_state.gil_runtime_state_holder", 8, VALL, -1),
	VAL("interpreter_state.code_object_generation", V14),
	VAL("interpreter_state.tlbc_generation", V14),

	SIZE("thread_state.size", VALL, -1, E_TSTATE, 1u << 20),
	OFF("thread_state.prev", 8, VALL, F(ts_prev)),
	OFF("thread_state.next", 8, VALL, F(ts_next)),
	OFF("thread_state.interp", 8, VALL, F(ts_interp)),
	OFF("thread_state.current_frame", 8, VALL, F(ts_current_frame)),
	OFF("thread_state.thread_id", 8, VALL, F(ts_thread_id)),
	OFF("thread_state.native_thread_id", 8, VALL, F(ts_native_thread_id)),
	OFF("thread_state.datastack_chunk", 8, VALL, -1),
	OFF("thread_state.status", 4, VALL, -1),

	SIZE("interpreter_frame.size", VALL, F(iframe_sizeof), E_NONE, 4096),
	OFF("interpreter_frame.previous", 8, VALL, F(iframe_previous)),
	OFF("interpreter_frame.executable", 8, VALL, F(iframe_code)),
	OFF("interpreter_frame.instr_ptr", 8, VALL, F(iframe_instr)),
	OFF("interpreter_frame.localsplus", 8, VALL, F(iframe_localsplus)),
	OFF("interpreter_frame.owner", 1, VALL, F(iframe_owner)),
	OFF("interpreter_frame.stackpointer", 8, V14, -1),
	VAL("interpreter_frame.tlbc_index", V14),

	SIZE("code_object.size", VALL, F(code_sizeof), E_NONE, 4096),
	OFF("code_object.filename", 8, VALL, F(code_filename)),
	OFF("code_object.name", 8, VALL, F(code_name)),
	OFF("code_object.qualname", 8, VALL, F(code_qualname)),
	OFF("code_object.linetable", 8, VALL, F(code_linetable)),
	OFF("code_object.firstlineno", 4, VALL, F(code_firstlineno)),
	OFF("code_object.argcount", 4, VALL, -1),
	OFF("code_object.localsplusnames", 8, VALL, F(code_localsplusnames)),
	OFF("code_object.localspluskinds", 8, VALL, F(code_localspluskinds)),
	OFF("code_object.co_code_adaptive", 1, VALL, F(code_code_adaptive)),
	VAL("code_object.co_tlbc", V14),

	SIZE("pyobject.size", VALL, -1, E_PYOBJECT, 64),
	OFF("pyobject.ob_type", 8, VALL, F(ob_type)),

	SIZE("type_object.size", VALL, F(tp_sizeof), E_NONE, 4096),
	OFF("type_object.tp_name", 8, VALL, F(tp_name)),
	OFF("type_object.tp_repr", 8, VALL, -1),
	OFF("type_object.tp_flags", 8, VALL, F(tp_flags)),

	SIZE("tuple_object.size", VALL, -1, E_TUPLE, 4096),
	OFF("tuple_object.ob_item", 8, VALL, F(tuple_item)),
	OFF("tuple_object.ob_size", 8, VALL, F(ob_size)),

	SIZE("list_object.size", VALL, -1, E_LIST, 4096),
	OFF("list_object.ob_item", 8, VALL, F(list_item)),
	OFF("list_object.ob_size", 8, VALL, F(ob_size)),

	SIZE("set_object.size", V14, -1, E_SET, 4096),
	OFF("set_object.used", 8, V14, F(set_used)),
	OFF("set_object.table", 8, V14, F(set_table)),
	OFF("set_object.mask", 8, V14, F(set_mask)),

	SIZE("dict_object.size", VALL, -1, E_DICT, 4096),
	OFF("dict_object.ma_keys", 8, VALL, F(dict_keys)),
	OFF("dict_object.ma_values", 8, VALL, F(dict_values)),

	SIZE("float_object.size", VALL, -1, E_NONE, 4096),
	OFF("float_object.ob_fval", 8, VALL, -1),

	SIZE("long_object.size", VALL, -1, E_LONG, 4096),
	OFF("long_object.lv_tag", 8, VALL, F(long_tag)),
	OFF("long_object.ob_digit", 4, VALL, F(long_digit)),

	SIZE("bytes_object.size", VALL, -1, E_BYTES, 4096),
	OFF("bytes_object.ob_size", 8, VALL, F(ob_size)),
	OFF("bytes_object.ob_sval", 1, VALL, F(bytes_sval)),

	SIZE("unicode_object.size", VALL, F(unicode_sizeof), E_NONE, 4096),
	OFF("unicode_object.state", 4, VALL, F(ascii_state)),
	OFF("unicode_object.length", 8, VALL, F(ascii_length)),
	/* a size, not an offset: sizeof(PyASCIIObject) <= sizeof(PyUnicodeObject) */
	OFF("unicode_object.asciiobject_size", 0, VALL, F(ascii_sizeof)),

	SIZE("gc.size", VALL, F(gc_sizeof), E_NONE, 1u << 16),
	OFF("gc.collecting", 4, VALL, F(gc_collecting)),

	SIZE("gen_object.size", V14, F(gen_sizeof), E_NONE, 4096),
	OFF("gen_object.gi_name", 8, V14, F(gen_name)),
	OFF("gen_object.gi_iframe", 8, V14, F(gen_iframe)),
	OFF("gen_object.gi_frame_state", 1, V14, F(gen_frame_state)),

	VAL("llist_node.next", V14),
	VAL("llist_node.prev", V14),

	VAL("debugger_support.eval_breaker", V14),
	VAL("debugger_support.remote_debugger_support", V14),
	VAL("debugger_support.remote_debugging_enabled", V14),
	VAL("debugger_support.debugger_pending_call", V14),
	VAL("debugger_support.debugger_script_path", V14),
	VAL("debugger_support.debugger_script_path_size", V14),
};

struct ph_error *ph_debug_offsets_parse(const void *buf, size_t len,
					struct ph_debug_offsets *ret)
{
	const uint8_t *b = buf;
	if (len < 24)
		return ph_error_create(PH_ERR_BAD_DATA, "_Py_DebugOffsets: only %zu bytes", len);
	if (memcmp(b, "xdebugpy", 8))
		return ph_error_create(PH_ERR_BAD_DATA, "_Py_DebugOffsets: no \"xdebugpy\" cookie");
	struct ph_debug_offsets d;
	memset(&d, 0, sizeof(d));
	ph_layout_init(&d.layout);
	d.version = ph_load_u64(b + 8);
	uint64_t ft = ph_load_u64(b + 16);
	unsigned major = (unsigned)(d.version >> 24), minor = (unsigned)(d.version >> 16) & 0xff;
	if (major != 3 || d.version > 0xffffffffu)
		return ph_error_create(PH_ERR_BAD_DATA, "_Py_DebugOffsets: implausible version 0x%llx",
				       (unsigned long long)d.version);
	if (ft > 1)
		return ph_error_create(PH_ERR_BAD_DATA,
				       "_Py_DebugOffsets: free_threaded is %llu, not 0 or 1",
				       (unsigned long long)ft);
	d.free_threaded = ft == 1;
	if (d.free_threaded)
		return ph_error_create(PH_ERR_UNSUPPORTED,
				       "_Py_DebugOffsets: a free-threaded build (3.%u t): not supported",
				       minor);
	unsigned vbit = minor == 13 ? V13 : minor == 14 ? V14 : 0;
	if (!vbit)
		return ph_error_create(PH_ERR_UNSUPPORTED,
				       "_Py_DebugOffsets: format of 3.%u unknown (3.13 and 3.14 are)",
				       minor);

	size_t pos = 24;
	uint64_t group_size = 0;
	const char *group = NULL;
	int32_t *slot;
	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		const struct member *m = &members[i];
		if (!(m->versions & vbit))
			continue;
		if (pos + 8 > len)
			return ph_error_create(PH_ERR_BAD_DATA, "_Py_DebugOffsets: %s beyond the %zu bytes read",
					       m->name, len);
		uint64_t v = ph_load_u64(b + pos);
		pos += 8;
		const char *dot = strchr(m->name, '.');
		size_t glen = (size_t)(dot - m->name);
		if (m->kind == M_SIZE) {
			group = m->name;
			group_size = v;
			if (v == 0 || v > m->max)
				return ph_error_create(PH_ERR_BAD_DATA,
						       "_Py_DebugOffsets: %s is %llu (expected 1 to %u)",
						       m->name, (unsigned long long)v, m->max);
			uint64_t *extra[] = {
				[E_RUNTIME] = &d.runtime_size, [E_INTERP] = &d.interp_size,
				[E_TSTATE] = &d.tstate_size,   [E_PYOBJECT] = &d.pyobject_size,
				[E_TUPLE] = &d.tuple_size,     [E_LIST] = &d.list_size,
				[E_DICT] = &d.dict_size,       [E_SET] = &d.set_size,
				[E_LONG] = &d.long_size,       [E_BYTES] = &d.bytes_size,
			};
			if (m->extra != E_NONE)
				*extra[m->extra] = v;
		} else if (m->kind == M_OFF) {
			// Every offset must lie inside the struct its group describes.
			if (!group || strncmp(group, m->name, glen) || group[glen] != '.')
				return ph_error_create(PH_ERR_OTHER, "_Py_DebugOffsets: %s has no size",
						       m->name);
			if (v + m->width > group_size || (m->width == 8 && v % 8))
				return ph_error_create(PH_ERR_BAD_DATA,
						       "_Py_DebugOffsets: %s is %llu, outside the %llu "
						       "bytes of its struct or misaligned",
						       m->name, (unsigned long long)v,
						       (unsigned long long)group_size);
		} else {
			continue;
		}
		if (m->field < 0)
			continue;
		slot = (int32_t *)((char *)&d.layout + m->field);
		if (*slot >= 0 && *slot != (int32_t)v)
			// ob_size from tuple, list and bytes: one PyVarObject field.
			return ph_error_create(PH_ERR_BAD_DATA,
					       "_Py_DebugOffsets: %s is %llu, another member says %d",
					       m->name, (unsigned long long)v, (int)*slot);
		if (*slot < 0)
			d.ncovered++;
		*slot = (int32_t)v;
	}
	// Cross-member sanity: the object header every struct starts with.
	if (d.pyobject_size != 16 || d.layout.ob_type != 8)
		return ph_error_create(PH_ERR_BAD_DATA,
				       "_Py_DebugOffsets: PyObject is %llu bytes with ob_type at %d "
				       "(expected 16 and 8 in a GIL build)",
				       (unsigned long long)d.pyobject_size, (int)d.layout.ob_type);
	if (d.layout.ascii_sizeof > d.layout.unicode_sizeof || d.layout.ascii_sizeof < 24)
		return ph_error_create(PH_ERR_BAD_DATA,
				       "_Py_DebugOffsets: unicode_object.asciiobject_size %d is implausible",
				       (int)d.layout.ascii_sizeof);
	*ret = d;
	return NULL;
}

size_t ph_debug_offsets_apply(const struct ph_debug_offsets *d, struct ph_layout *l,
			      const char **first_diff)
{
	size_t ndiff = 0;
	for (size_t i = 0; i < ph_layout_nfields; i++) {
		int32_t v = *ph_layout_slot((struct ph_layout *)&d->layout, i);
		if (v < 0)
			continue;
		int32_t *slot = ph_layout_slot(l, i);
		if (*slot != v) {
			if (!ndiff && first_diff)
				*first_diff = ph_layout_fields[i].id;
			ndiff++;
			*slot = v;
		}
	}
	return ndiff;
}

bool ph_debug_offsets_match(const struct ph_debug_offsets *d, const struct ph_layout *l,
			    char *why, size_t cap)
{
	// The sizes of the structs whose other members come from the table:
	// if one of them differs, that struct changed and the table is not for
	// this build.
	const struct {
		const char *what;
		int32_t dv, lv;
	} sizes[] = {
		{"type object size", d->layout.tp_sizeof, l->tp_sizeof},
		{"code object size", d->layout.code_sizeof, l->code_sizeof},
		{"interpreter frame size", d->layout.iframe_sizeof, l->iframe_sizeof},
		{"str (PyUnicodeObject) size", d->layout.unicode_sizeof, l->unicode_sizeof},
		{"PyASCIIObject size", d->layout.ascii_sizeof, l->ascii_sizeof},
		{"gc state size", d->layout.gc_sizeof, l->gc_sizeof},
		{"generator size", d->layout.gen_sizeof, l->gen_sizeof},
		{"tuple size", d->tuple_size ? (int32_t)d->tuple_size : -1,
		 l->tuple_item >= 0 ? l->tuple_item + 8 : -1},
		{"list size", d->list_size ? (int32_t)d->list_size : -1,
		 l->list_allocated >= 0 ? l->list_allocated + 8 : -1},
		{"dict size", d->dict_size ? (int32_t)d->dict_size : -1,
		 l->dict_values >= 0 ? l->dict_values + 8 : -1},
	};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (sizes[i].dv < 0 || sizes[i].lv < 0 || sizes[i].dv == sizes[i].lv)
			continue;
		snprintf(why, cap, "%s %d, table %d", sizes[i].what, (int)sizes[i].dv,
			 (int)sizes[i].lv);
		return false;
	}
	return true;
}
