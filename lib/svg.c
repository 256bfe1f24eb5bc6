/* SPDX-License-Identifier: MIT */
#include "svg.h"
#include "report.h"

#include <math.h> /* isfinite, INFINITY only: no libm */
#include <stdint.h>
#include <string.h>

enum {
	WIDTH = 960,
	HEIGHT = 540,
	LEFT = 90,    /* room for the y tick labels */
	RIGHT = 300,  /* room for the legend */
	TOP = 60,
	BOTTOM = 60,
	MAX_NAME = 44 /* legend names are cut beyond this many bytes */
};

static const char *const colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
				     "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

void ph_xml_text(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&apos;", out);
			break;
		default:
			// XML 1.0 allows no control characters but tab, LF, CR, and
			// the file is UTF-8: a byte that starts no UTF-8 sequence
			// (a damaged name, one cut short) becomes U+FFFD.
			if (*p >= 0x80) {
				size_t n = ph_utf8_length(p);
				if (n)
					fwrite(p, 1, n, out), p += n - 1;
				else
					fputs("\xef\xbf\xbd", out);
			} else if (*p >= 0x20 || *p == '\t') {
				fputc(*p, out);
			}
		}
	}
}

// Rounding without libm, for the chart's range of values.
static double floor_(double v)
{
	double t = (double)(int64_t)v;
	return t > v ? t - 1 : t;
}

static double ceil_(double v)
{
	double t = (double)(int64_t)v;
	return t < v ? t + 1 : t;
}

static double fabs_(double v)
{
	return v < 0 ? -v : v;
}

// A step of 1, 2 or 5 times a power of ten, about range / 5.
static double nice_step(double range)
{
	if (!(range > 0) || !isfinite(range))
		return 1;
	double raw = range / 5, mag = 1;
	while (mag * 10 <= raw)
		mag *= 10;
	while (mag > raw)
		mag /= 10;
	double f = raw / mag;
	double nf = f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10;
	return nf * mag;
}

static void format_value(char *buf, size_t cap, double v)
{
	double a = fabs_(v);
	if (a >= 1e9)
		snprintf(buf, cap, "%.4gG", v / 1e9);
	else if (a >= 1e6)
		snprintf(buf, cap, "%.4gM", v / 1e6);
	else if (a >= 1e4)
		snprintf(buf, cap, "%.4gk", v / 1e3);
	else
		snprintf(buf, cap, "%.6g", v);
}

// A name cut to MAX_NAME bytes at a UTF-8 character boundary.
static void legend_name(FILE *out, const char *name)
{
	size_t n = strlen(name);
	if (n <= MAX_NAME) {
		ph_xml_text(out, name);
		return;
	}
	char buf[MAX_NAME + 4];
	size_t k = MAX_NAME - 1;
	while (k > 0 && ((unsigned char)name[k] & 0xc0) == 0x80)
		k--;
	memcpy(buf, name, k);
	memcpy(buf + k, "\xe2\x80\xa6", 4); // "…"
	ph_xml_text(out, buf);
}

void ph_svg_write(FILE *out, const struct ph_svg_chart *c)
{
	double xmin = 0, xmax = 0, ymin = INFINITY, ymax = -INFINITY;
	for (size_t i = 0; i < c->n; i++) {
		if (c->x[i] > xmax)
			xmax = c->x[i];
		if (i == 0 || c->x[i] < xmin)
			xmin = c->x[i];
		for (size_t s = 0; s < c->nseries; s++) {
			double y = c->series[s].y[i];
			if (y < ymin)
				ymin = y;
			if (y > ymax)
				ymax = y;
		}
	}
	if (xmin > 0)
		xmin = 0;
	if (!(xmax > xmin))
		xmax = xmin + 1;
	if (!isfinite(ymin) || !isfinite(ymax)) {
		ymin = 0;
		ymax = 1;
	}
	if (ymin == ymax) {
		ymin -= 1;
		ymax += 1;
	}
	double ystep = nice_step(ymax - ymin), xstep = nice_step(xmax - xmin);
	ymin = floor_(ymin / ystep) * ystep;
	ymax = ceil_(ymax / ystep) * ystep;
	xmax = ceil_(xmax / xstep) * xstep;
	const double pw = WIDTH - LEFT - RIGHT, ph = HEIGHT - TOP - BOTTOM;
#define PX(x) (LEFT + ((x) - xmin) / (xmax - xmin) * pw)
#define PY(y) (TOP + ph - ((y) - ymin) / (ymax - ymin) * ph)

	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		     "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
		WIDTH, HEIGHT, WIDTH, HEIGHT);
	fputs("<title>", out);
	ph_xml_text(out, c->title);
	fputs("</title>\n", out);
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n", WIDTH,
		HEIGHT);
	fprintf(out, "<text class=\"title\" x=\"%d\" y=\"30\" text-anchor=\"middle\" "
		     "font-size=\"16\" font-weight=\"bold\">",
		(LEFT + WIDTH - RIGHT) / 2);
	ph_xml_text(out, c->title);
	fputs("</text>\n", out);

	// Grid and ticks.
	fputs("<g class=\"axes\" stroke=\"#000\" stroke-width=\"1\">\n", out);
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", LEFT, TOP, LEFT,
		HEIGHT - BOTTOM);
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", LEFT, HEIGHT - BOTTOM,
		WIDTH - RIGHT, HEIGHT - BOTTOM);
	fputs("</g>\n<g class=\"ticks\">\n", out);
	char label[48];
	for (int k = 0; k <= 100; k++) {
		double y = ymin + k * ystep;
		if (y > ymax + ystep / 2)
			break;
		format_value(label, sizeof(label), fabs_(y) < ystep / 1e6 ? 0 : y);
		fprintf(out,
			"<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			LEFT, PY(y), WIDTH - RIGHT, PY(y), LEFT - 6, PY(y) + 4, label);
	}
	for (int k = 0; k <= 100; k++) {
		double x = xmin + k * xstep;
		if (x > xmax + xstep / 2)
			break;
		format_value(label, sizeof(label), x);
		fprintf(out,
			"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#000\"/>"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
			PX(x), HEIGHT - BOTTOM, PX(x), HEIGHT - BOTTOM + 5, PX(x), HEIGHT - BOTTOM + 20,
			label);
	}
	fputs("</g>\n", out);
	fprintf(out, "<text class=\"x-label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
		(LEFT + WIDTH - RIGHT) / 2, HEIGHT - 15);
	ph_xml_text(out, c->x_label);
	fprintf(out, "</text>\n<text class=\"y-label\" x=\"20\" y=\"%d\" text-anchor=\"middle\" "
		     "transform=\"rotate(-90 20 %d)\">",
		TOP + (HEIGHT - TOP - BOTTOM) / 2, TOP + (HEIGHT - TOP - BOTTOM) / 2);
	ph_xml_text(out, c->y_label);
	fputs("</text>\n", out);

	// Series, with a dot on each sample when there are few.
	for (size_t s = 0; s < c->nseries; s++) {
		const char *color = colors[s % (sizeof(colors) / sizeof(colors[0]))];
		fputs("<g class=\"series-group\" data-name=\"", out);
		ph_xml_text(out, c->series[s].name);
		fprintf(out, "\">\n<title>");
		ph_xml_text(out, c->series[s].name);
		fprintf(out, "</title>\n<polyline class=\"series\" data-name=\"");
		ph_xml_text(out, c->series[s].name);
		fprintf(out, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
		for (size_t i = 0; i < c->n; i++)
			fprintf(out, "%s%.1f,%.1f", i ? " " : "", PX(c->x[i]), PY(c->series[s].y[i]));
		fputs("\"/>\n", out);
		for (size_t i = 0; c->n <= 60 && i < c->n; i++)
			fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
				PX(c->x[i]), PY(c->series[s].y[i]), color);
		fputs("</g>\n", out);
	}

	// Legend.
	fputs("<g class=\"legend\">\n", out);
	for (size_t s = 0; s < c->nseries; s++) {
		const char *color = colors[s % (sizeof(colors) / sizeof(colors[0]))];
		int y = TOP + 10 + (int)s * 20;
		fprintf(out,
			"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>"
			"<text x=\"%d\" y=\"%d\">",
			WIDTH - RIGHT + 20, y, WIDTH - RIGHT + 40, y, color, WIDTH - RIGHT + 46, y + 4);
		legend_name(out, c->series[s].name);
		fputs("</text>\n", out);
	}
	fputs("</g>\n</svg>\n", out);
#undef PX
#undef PY
}
