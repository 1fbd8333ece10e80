// A C face for the one thing Switchboard asks of RE2 (the engine Envoy matches with): does a
// pattern compile, and how large is its program. Swift imports C, not RE2's C++ API.
#ifndef SWITCHBOARD_RE2_CHECK_H
#define SWITCHBOARD_RE2_CHECK_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What RE2 said of a pattern. `error_code` is RE2's `RE2::ErrorCode` (0 when it compiled);
/// `error_argument` is the fragment it objected to, cut to fit and NUL-terminated.
typedef struct {
    int error_code;
    int program_size;
    char error_argument[256];
} switchboard_re2_result;

/// Compiles `pattern` (`length` bytes of UTF-8, NULs allowed) with the options Envoy uses for
/// `safe_regex` (RE2 defaults, errors not logged) and reports the outcome.
switchboard_re2_result switchboard_re2_check(const char *pattern, size_t length);

/// Whether `text` matches `pattern` as a whole, as Envoy's `safe_regex` matchers match: 1 yes,
/// 0 no, -1 when the pattern does not compile.
int switchboard_re2_full_match(const char *pattern, size_t pattern_length, const char *text, size_t text_length);

#ifdef __cplusplus
}
#endif
#endif
