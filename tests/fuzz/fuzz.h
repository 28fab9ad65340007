/*
 * tlsguard fuzz targets: one entry-point macro for two builds.
 *
 * Every target file tests/fuzz/fuzz_<name>.c defines its entry point with
 *
 *     TG_FUZZ_TARGET(<name>)
 *     {
 *             ... use data[0..size) ...
 *             return 0;
 *     }
 *
 * - Built for libFuzzer (the default; one target per binary, compiled with
 *   clang -fsanitize=fuzzer), TG_FUZZ_TARGET(name) expands to the header of
 *   `int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)`.
 * - Built with -DTG_FUZZ_REPLAY (the `make check` program
 *   tests/unit/check_fuzz_replay links every target into one binary), it
 *   expands to `int tg_fuzz_<name>(const uint8_t *data, size_t size)`, so the
 *   targets do not clash; the replay driver calls them by name.
 *
 * A target must return 0, must not keep state between inputs that changes
 * what the next input does, must free everything it allocates, and signals
 * a violated invariant with abort() (never with a return value: libFuzzer
 * ignores those). Adding a target: write fuzz_<name>.c, declare
 * tg_fuzz_<name> below, add it to FUZZ_TARGETS in Makefile.am and to the
 * table in tests/unit/check_fuzz_replay.c, and create fuzz_<name>.in/ (seeds,
 * at least one file) and fuzz_<name>.repro/ (crash reproducers).
 */
#ifndef TLSGUARD_TESTS_FUZZ_H
#define TLSGUARD_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#ifdef TG_FUZZ_REPLAY
int tg_fuzz_config(const uint8_t *data, size_t size);
int tg_fuzz_chain(const uint8_t *data, size_t size);
int tg_fuzz_pin(const uint8_t *data, size_t size);
int tg_fuzz_sct(const uint8_t *data, size_t size);
int tg_fuzz_loglist(const uint8_t *data, size_t size);
int tg_fuzz_ocsp(const uint8_t *data, size_t size);
int tg_fuzz_store(const uint8_t *data, size_t size);
int tg_fuzz_preload_conf(const uint8_t *data, size_t size);
#define TG_FUZZ_TARGET(name) int tg_fuzz_##name(const uint8_t *data, size_t size)
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#define TG_FUZZ_TARGET(name) int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#endif

/* Fixed evaluation time of the fuzz targets: 2026-06-01 00:00:00 UTC, the
 * time the test fixtures are made for. */
#define TG_FUZZ_TIME INT64_C(1780272000)

/* Host name fuzz_chain evaluates for. */
#define TG_FUZZ_HOST "fuzz.example.test"

/* fuzz_chain's input format: up to TG_FUZZ_MAX_CERTS records, each a 2-byte
 * big-endian length followed by that many bytes of one DER certificate
 * (leaf first). A length running past the end takes what is left; a zero
 * length adds nothing; bytes after the last record are ignored. */
#define TG_FUZZ_MAX_CERTS 8

#endif
