/*
 * Fuzz target "preload_conf": the LD_PRELOAD shim's preload.conf parser
 * (lib/preload/conf.c), which runs inside every program the shim is loaded
 * into. Any bytes: it must not crash, must report every line it ignores,
 * and must never turn the shim off through a line it did not understand.
 *
 * Invariants checked: parsing the same bytes twice gives the same settings;
 * an input without the word "exclude" or "only" leaves the shim enabled;
 * every reported message names the file.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "preload/preload.h"

static void sink_fn(const char *msg, void *ud)
{
	size_t *count = ud;
	if (strncmp(msg, "fuzz.conf:", 10) != 0)
		abort();
	(*count)++;
}

TG_FUZZ_TARGET(preload_conf)
{
	struct tgp_conf a = {true, false, false}, b = {true, false, false};
	size_t na = 0, nb = 0;
	struct tgp_conf_sink wa = {sink_fn, &na}, wb = {sink_fn, &nb};
	const char *text = (const char *)data;

	tgp_conf_parse(text, size, "fuzz.conf", "wget", &a, &wa);
	tgp_conf_parse(text, size, "fuzz.conf", "wget", &b, &wb);
	if (a.enabled != b.enabled || a.use_syslog != b.use_syslog || a.quiet != b.quiet || na != nb)
		abort();
	if (!a.enabled && memmem(text, size, "exclude", 7) == NULL && memmem(text, size, "only", 4) == NULL)
		abort();
	/* A sink is optional. */
	tgp_conf_parse(text, size, "fuzz.conf", "", &b, NULL);
	return 0;
}
