/* The library's only allocator, so that tests can fail the Nth allocation. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tg.h"

/* Test hook state. Only the unit tests change it (from one thread), so the
 * shipped library's hot path reads two integers that are always zero. */
static unsigned long fail_at;
static unsigned long count;

unsigned long tg_alloc_fail_at(unsigned long n)
{
	unsigned long made = count;
	count = 0;
	fail_at = n;
	return made;
}

static bool should_fail(void)
{
	if (fail_at == 0)
		return false;
	return ++count >= fail_at;
}

void *tg_malloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n ? n : 1);
}

void *tg_calloc(size_t n, size_t size)
{
	if (should_fail())
		return NULL;
	return calloc(n ? n : 1, size ? size : 1);
}

void *tg_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n ? n : 1);
}

char *tg_strndup(const char *s, size_t n)
{
	char *d = tg_malloc(n + 1);
	if (d == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *tg_strdup(const char *s)
{
	return tg_strndup(s, strlen(s));
}

void tg_free(void *p)
{
	free(p);
}
