/*
 * Host index: open-addressing hash table from a section pattern
 * ("example.com", "*.example.com") to its index in tg_config.hosts. Policy
 * lookup walks the host's labels and probes the table once or twice per
 * label, so its cost does not depend on how many hosts are configured.
 */
#include "config.h"

#include <string.h>

#include "tg.h"

static uint64_t hash(const char *s, size_t len)
{
	uint64_t h = UINT64_C(1469598103934665603);
	size_t i;
	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static bool eq(const char *pattern, const char *s, size_t len)
{
	return strncmp(pattern, s, len) == 0 && pattern[len] == '\0';
}

static int grow(struct tg_config *cfg)
{
	size_t cap = cfg->index.cap ? cfg->index.cap * 2 : 64, i;
	size_t *slots = tg_calloc(cap, sizeof(*slots));

	if (slots == NULL)
		return TLSGUARD_E_NOMEM;
	tg_free(cfg->index.slots);
	cfg->index.slots = slots;
	cfg->index.cap = cap;
	for (i = 0; i < cfg->n_hosts; i++) {
		const char *p = cfg->hosts[i].pattern;
		size_t len = strlen(p), k = (size_t)hash(p, len) & (cap - 1);
		while (slots[k] != 0)
			k = (k + 1) & (cap - 1);
		slots[k] = i + 1;
	}
	return 0;
}

int tg_hostindex_rebuild(struct tg_config *cfg)
{
	tg_free(cfg->index.slots);
	cfg->index.slots = NULL;
	cfg->index.cap = 0;
	while (cfg->index.cap < 2 * cfg->n_hosts + 64) {
		int rc = grow(cfg);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Called after hosts[idx] was appended (n_hosts already counts it). */
int tg_hostindex_add(struct tg_config *cfg, size_t idx)
{
	const char *p = cfg->hosts[idx].pattern;
	size_t len = strlen(p), k;

	/* Keep the load factor under 1/2; growing re-inserts everything. */
	if (cfg->index.cap < 2 * cfg->n_hosts)
		return grow(cfg);
	k = (size_t)hash(p, len) & (cfg->index.cap - 1);
	while (cfg->index.slots[k] != 0)
		k = (k + 1) & (cfg->index.cap - 1);
	cfg->index.slots[k] = idx + 1;
	return 0;
}

long tg_hostindex_find(const struct tg_config *cfg, const char *pattern, size_t len)
{
	size_t k;

	if (cfg->index.cap == 0)
		return -1;
	k = (size_t)hash(pattern, len) & (cfg->index.cap - 1);
	while (cfg->index.slots[k] != 0) {
		size_t i = cfg->index.slots[k] - 1;
		if (eq(cfg->hosts[i].pattern, pattern, len))
			return (long)i;
		k = (k + 1) & (cfg->index.cap - 1);
	}
	return -1;
}

void tg_hostindex_free(struct tg_config *cfg)
{
	tg_free(cfg->index.slots);
	cfg->index.slots = NULL;
	cfg->index.cap = 0;
}
