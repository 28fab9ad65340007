/* One context shared by many threads verifying at once: the first
 * evaluations race to freeze and prepare it, then all read it. Every
 * thread must get exactly the verdict and events a single thread gets. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>

#include "testutil.h"

#define THREADS 8
#define ROUNDS 40

static struct test_chain good, bad_all, expired;
static int callbacks; /* updated atomically by the callback */

static int count_cb(const tlsguard_event *ev, void *data)
{
	(void)data;
	/* The event is valid during the call: read it. */
	if (tlsguard_event_message(ev)[0] == '\0')
		return TLSGUARD_DECISION_REJECT;
	__atomic_add_fetch(&callbacks, 1, __ATOMIC_RELAXED);
	return TLSGUARD_DECISION_DEFAULT;
}

struct job {
	const tlsguard_ctx *ctx;
	pthread_barrier_t *start;
	int errors;
};

static int one(const tlsguard_ctx *ctx, const struct test_chain *c, const char *host, int want_verdict,
               size_t want_events)
{
	tlsguard_result *res = NULL;
	int rc = tlsguard_verify_der_chain(ctx, host, 443, (const unsigned char *const *)c->der, c->len, c->n, &res);
	int bad = rc != 0 || tlsguard_result_verdict(res) != want_verdict ||
	          tlsguard_result_event_count(res) != want_events;
	tlsguard_result_free(res);
	return bad;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	int i;

	pthread_barrier_wait(j->start);
	for (i = 0; i < ROUNDS; i++) {
		j->errors += one(j->ctx, &good, "good.example.test", TLSGUARD_ACCEPT, 0);
		j->errors += one(j->ctx, &bad_all, "good.example.test", TLSGUARD_REJECT, 3);
		j->errors += one(j->ctx, &expired, "expired.example.test", TLSGUARD_REJECT, 1);
	}
	return NULL;
}

START_TEST(shared_context_many_threads)
{
	tlsguard_ctx *ctx = test_ctx();
	pthread_t th[THREADS];
	struct job jobs[THREADS];
	pthread_barrier_t start;
	int i, errors = 0;

	chain_load(&good, "good-chain.pem");
	chain_load(&bad_all, "bad-all.pem");
	chain_load(&expired, "expired-chain.pem");
	ck_assert_int_eq(tlsguard_ctx_set_event_callback(ctx, count_cb, NULL), 0);
	callbacks = 0;
	/* The context is not frozen yet: the threads race to prepare it. */
	pthread_barrier_init(&start, NULL, THREADS);
	for (i = 0; i < THREADS; i++) {
		jobs[i].ctx = ctx;
		jobs[i].start = &start;
		jobs[i].errors = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		errors += jobs[i].errors;
	}
	pthread_barrier_destroy(&start);
	ck_assert_int_eq(errors, 0);
	/* 4 events per round (3 + 1), every one delivered to the callback. */
	ck_assert_int_eq(callbacks, THREADS * ROUNDS * 4);
	/* Frozen now. */
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), TLSGUARD_E_FROZEN);
	chain_free(&good);
	chain_free(&bad_all);
	chain_free(&expired);
	tlsguard_ctx_free(ctx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("threads");
	TCase *tc = tcase_create("concurrency");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, shared_context_many_threads);
	suite_add_tcase(s, tc);
	return test_run(s);
}
