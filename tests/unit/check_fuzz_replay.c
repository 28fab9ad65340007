/*
 * Replays the fuzz corpora in `make check`, so that every seed and every
 * crash ever found stays a regression test without clang or libFuzzer.
 *
 * The fuzz targets (tests/fuzz/fuzz_<name>.c) are linked into this program
 * with -DTG_FUZZ_REPLAY, which names their entry points tg_fuzz_<name>
 * (see tests/fuzz/fuzz.h). For every target this program
 *  - checks that $TG_SRCDIR/tests/fuzz/fuzz_<name>.in/ holds at least one
 *    seed and that fuzz_<name>.repro/ exists (with its README.md), so that a
 *    wrong path or an emptied corpus cannot pass vacuously;
 *  - feeds every regular file of both directories (except README*, dot
 *    files and editor backups) to the target, one Check test per file, each
 *    in its own process (CK_FORK): an abort(), a crash or a hang fails that
 *    test, and the report names the file;
 *  - for "chain", also replays inputs built at run time from the fixture
 *    chains in $TG_DATA (which are generated, never committed), in the
 *    format of tests/fuzz/make-chain-seeds.sh.
 *
 * Run: TG_DATA=$PWD/tests/data TG_SRCDIR=$PWD ./tests/unit/check_fuzz_replay
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gnutls/gnutls.h>

#include "testutil.h"
#include "../fuzz/fuzz.h"

#ifndef TG_FUZZ_REPLAY
#error "build with -DTG_FUZZ_REPLAY (see tests/fuzz/fuzz.h)"
#endif

struct target {
	const char *name;
	int (*fn)(const uint8_t *data, size_t size);
};

static const struct target targets[] = {
	{"config", tg_fuzz_config},
	{"chain", tg_fuzz_chain},
	{"pin", tg_fuzz_pin},
	{"sct", tg_fuzz_sct},
	{"loglist", tg_fuzz_loglist},
	{"ocsp", tg_fuzz_ocsp},
	{"store", tg_fuzz_store},
	{"preload_conf", tg_fuzz_preload_conf},
};
#define NTARGETS ((int)(sizeof(targets) / sizeof(targets[0])))

/* Every corpus file found when the suite is built. */
struct corpus_file {
	int target;
	char *path;
};
static struct corpus_file *files;
static size_t nfiles;

/* Fixture files in $TG_DATA used to build chain inputs. */
static char **fixtures;
static size_t nfixtures;

static const char *srcdir(void)
{
	const char *s = getenv("TG_SRCDIR");
	return s && s[0] ? s : ".";
}

static void corpus_dir(char *buf, size_t len, int target, const char *kind)
{
	snprintf(buf, len, "%s/tests/fuzz/fuzz_%s.%s", srcdir(), targets[target].name, kind);
}

/* Files that are documentation or junk, not inputs. */
static int skip_name(const char *name)
{
	size_t n = strlen(name);
	return name[0] == '.' || strncmp(name, "README", 6) == 0 || (n > 0 && name[n - 1] == '~');
}

static int is_regular(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted list of input files in @dir (NULL-terminated; NULL if the
 * directory cannot be opened). */
static char **list_inputs(const char *dir, size_t *n, size_t *readmes)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	*readmes = 0;
	if (d == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path) || !is_regular(path))
			continue;
		if (strncmp(de->d_name, "README", 6) == 0)
			(*readmes)++;
		if (skip_name(de->d_name))
			continue;
		if (*n + 2 > cap) {
			cap = cap ? cap * 2 : 16;
			v = realloc(v, cap * sizeof(*v));
			if (v == NULL)
				abort();
		}
		v[(*n)++] = strdup(path);
	}
	closedir(d);
	if (v == NULL) {
		v = calloc(1, sizeof(*v));
		if (v == NULL)
			abort();
	}
	qsort(v, *n, sizeof(*v), cmp_str);
	v[*n] = NULL;
	return v;
}

static void collect(void)
{
	int t;
	static const char *const kinds[] = {"in", "repro"};
	size_t k, i;

	for (t = 0; t < NTARGETS; t++) {
		for (k = 0; k < 2; k++) {
			char dir[4096];
			size_t n, readmes;
			char **v;
			corpus_dir(dir, sizeof(dir), t, kinds[k]);
			v = list_inputs(dir, &n, &readmes);
			if (v == NULL)
				continue; /* test_corpus_present reports it */
			files = realloc(files, (nfiles + n + 1) * sizeof(*files));
			if (files == NULL)
				abort();
			for (i = 0; i < n; i++) {
				files[nfiles].target = t;
				files[nfiles].path = v[i];
				nfiles++;
			}
			free(v);
		}
	}
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void collect_fixtures(void)
{
	const char *dir = getenv("TG_DATA");
	DIR *d;
	struct dirent *de;

	if (dir == NULL)
		dir = "tests/data";
	if ((d = opendir(dir)) == NULL)
		return; /* test_fixture_chains_present reports it */
	while ((de = readdir(d)) != NULL) {
		/* every PEM chain and every single DER certificate */
		if (!has_suffix(de->d_name, "-chain.pem") && !has_suffix(de->d_name, ".der"))
			continue;
		if (strncmp(de->d_name, "ocsp-", 5) == 0)
			continue;
		fixtures = realloc(fixtures, (nfixtures + 1) * sizeof(*fixtures));
		if (fixtures == NULL)
			abort();
		fixtures[nfixtures++] = strdup(de->d_name);
	}
	closedir(d);
	if (nfixtures > 0)
		qsort(fixtures, nfixtures, sizeof(*fixtures), cmp_str);
}

/* ------------------------------------------------------------------ tests */

/* _i = target * 2 + kind */
START_TEST(test_corpus_present)
{
	int t = _i / 2, repro = _i % 2;
	char dir[4096];
	size_t n, readmes, i;
	char **v;

	corpus_dir(dir, sizeof(dir), t, repro ? "repro" : "in");
	v = list_inputs(dir, &n, &readmes);
	ck_assert_msg(v != NULL, "corpus directory %s: %s (is TG_SRCDIR set to the source tree?)", dir,
	              strerror(errno));
	if (repro)
		ck_assert_msg(readmes > 0, "%s has no README.md: a reproducer directory must keep it", dir);
	else
		ck_assert_msg(n > 0, "seed corpus %s is empty: the replay would pass without testing anything", dir);
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
END_TEST

START_TEST(test_replay_file)
{
	const struct corpus_file *f = &files[_i];
	gnutls_datum_t d = {NULL, 0};
	int rc;

	ck_assert_msg(gnutls_load_file(f->path, &d) == 0, "cannot read %s", f->path);
	/* If the target crashes, Check reports this file as the last location. */
	_mark_point(f->path, 0);
	rc = targets[f->target].fn(d.data ? d.data : (const uint8_t *)"", d.size);
	ck_assert_msg(rc == 0, "%s: target %s returned %d", f->path, targets[f->target].name, rc);
	gnutls_free(d.data);
}
END_TEST

START_TEST(test_empty_input)
{
	ck_assert_int_eq(targets[_i].fn((const uint8_t *)"", 0), 0);
}
END_TEST

START_TEST(test_fixture_chains_present)
{
	size_t i, chains = 0;

	for (i = 0; i < nfixtures; i++)
		if (has_suffix(fixtures[i], "-chain.pem"))
			chains++;
	ck_assert_msg(chains >= 5, "only %zu *-chain.pem fixtures in $TG_DATA (%s): run tests/gen-fixtures.sh", chains,
	              getenv("TG_DATA") ? getenv("TG_DATA") : "unset");
}
END_TEST

/* Encode certificates @order[0..n) of @c as a fuzz_chain input, each cut to
 * at most @cut bytes. Returns the length. */
static size_t encode(unsigned char *out, const struct test_chain *c, const size_t *order, size_t n, size_t cut)
{
	size_t i, len = 0;

	for (i = 0; i < n; i++) {
		size_t l = c->len[order[i]] < cut ? c->len[order[i]] : cut;
		ck_assert_uint_le(l, 0xffff);
		out[len++] = (unsigned char)(l >> 8);
		out[len++] = (unsigned char)(l & 0xff);
		memcpy(out + len, c->der[order[i]], l);
		len += l;
	}
	return len;
}

START_TEST(test_fixture_chain)
{
	const char *name = fixtures[_i];
	struct test_chain c;
	size_t order[64], i, n, len, total = 0;
	unsigned char *buf;
	static const size_t cuts[] = {(size_t)-1, 1, 2, 4, 16, 100, 300};

	chain_load(&c, name);
	n = c.n < TG_FUZZ_MAX_CERTS ? c.n : TG_FUZZ_MAX_CERTS;
	for (i = 0; i < c.n; i++)
		total += c.len[i] + 2;
	buf = malloc(2 * total + 16);
	ck_assert_ptr_nonnull(buf);
	_mark_point(name, 0);

	/* as presented, then cut short in various places */
	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		len = encode(buf, &c, order, n, cuts[i]);
		ck_assert_int_eq(tg_fuzz_chain(buf, len), 0);
	}
	/* the whole input truncated at every 97th byte */
	len = encode(buf, &c, order, n, (size_t)-1);
	for (i = 0; i < len; i += 97)
		ck_assert_int_eq(tg_fuzz_chain(buf, i), 0);
	/* reversed (root side first) and with the leaf repeated */
	for (i = 0; i < n; i++)
		order[i] = n - 1 - i;
	len = encode(buf, &c, order, n, (size_t)-1);
	ck_assert_int_eq(tg_fuzz_chain(buf, len), 0);
	for (i = 0; i < n && i < TG_FUZZ_MAX_CERTS / 2; i++)
		order[2 * i] = order[2 * i + 1] = i;
	len = encode(buf, &c, order, 2 * i, (size_t)-1);
	ck_assert_int_eq(tg_fuzz_chain(buf, len), 0);
	/* one flipped bit in each certificate's body */
	len = encode(buf, &c, order, n, (size_t)-1);
	for (i = 0; i < len; i += 211) {
		buf[i] ^= 0x10;
		ck_assert_int_eq(tg_fuzz_chain(buf, len), 0);
		buf[i] ^= 0x10;
	}
	free(buf);
	chain_free(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fuzz_replay");
	TCase *t;
	int rc;
	size_t i;

	collect();
	collect_fixtures();

	t = tcase_create("corpora");
	tcase_add_loop_test(t, test_corpus_present, 0, NTARGETS * 2);
	tcase_add_loop_test(t, test_empty_input, 0, NTARGETS);
	tcase_set_timeout(t, 20);
	if (nfiles > 0)
		tcase_add_loop_test(t, test_replay_file, 0, (int)nfiles);
	suite_add_tcase(s, t);

	t = tcase_create("fixture_chains");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_fixture_chains_present);
	if (nfixtures > 0)
		tcase_add_loop_test(t, test_fixture_chain, 0, (int)nfixtures);
	suite_add_tcase(s, t);

	rc = test_run(s);
	printf("replayed %zu corpus files and %zu fixture chains\n", nfiles, nfixtures);
	for (i = 0; i < nfiles; i++)
		free(files[i].path);
	free(files);
	for (i = 0; i < nfixtures; i++)
		free(fixtures[i]);
	free(fixtures);
	return rc;
}
