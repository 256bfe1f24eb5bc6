/* SPDX-License-Identifier: MIT */
/**
 * @file svg.h
 * A line chart as a self-contained SVG document (no scripts, no external
 * resources): title, axes with ticks, one polyline per series, a legend.
 */
#ifndef PH_SVG_H
#define PH_SVG_H

#include <stddef.h>
#include <stdio.h>

struct ph_svg_series {
	const char *name;
	const double *y; /**< one value per x */
};

struct ph_svg_chart {
	const char *title;
	const char *x_label; /**< "seconds" */
	const char *y_label; /**< "objects", "bytes" */
	const double *x;     /**< increasing */
	size_t n;
	const struct ph_svg_series *series;
	size_t nseries;
};

/**
 * Writes the chart. Each series is a <polyline class="series"> with a
 * data-name attribute (its name), inside a <g class="series-group">.
 */
void ph_svg_write(FILE *out, const struct ph_svg_chart *c);

/** Writes @p s with the XML special characters escaped (and control characters dropped). */
void ph_xml_text(FILE *out, const char *s);

#endif
