/* SPDX-License-Identifier: MIT */
/* A C extension that keeps objects in static variables, as native code that
 * leaks does (tests/live/native_statics.py builds it for each interpreter):
 * keep(obj) appends to a list only a static variable holds; remember(obj)
 * stores obj in another static variable (a reference Python code may hold
 * too); kept() returns the list; leak(obj) takes a reference it never gives
 * back (a missing Py_DECREF: obj stays alive, held by nothing). */
#include <Python.h>

static PyObject *kept_list;
static PyObject *remembered;

static PyObject *keep(PyObject *self, PyObject *arg)
{
	(void)self;
	if (PyList_Append(kept_list, arg) < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *remember(PyObject *self, PyObject *arg)
{
	(void)self;
	Py_INCREF(arg);
	Py_XSETREF(remembered, arg);
	Py_RETURN_NONE;
}

static PyObject *leak(PyObject *self, PyObject *arg)
{
	(void)self;
	Py_INCREF(arg);
	Py_RETURN_NONE;
}

static PyObject *kept(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	Py_INCREF(kept_list);
	return kept_list;
}

static PyMethodDef methods[] = {
	{"keep", keep, METH_O, NULL},
	{"remember", remember, METH_O, NULL},
	{"kept", kept, METH_NOARGS, NULL},
	{"leak", leak, METH_O, NULL},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "static_holder", NULL, -1, methods,
				    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_static_holder(void)
{
	kept_list = PyList_New(0);
	return kept_list ? PyModule_Create(&module) : NULL;
}
