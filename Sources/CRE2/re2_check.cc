#include "re2_check.h"

#include <re2/re2.h>

#include <algorithm>
#include <cstring>

switchboard_re2_result switchboard_re2_check(const char *pattern, size_t length) {
    switchboard_re2_result result{};
    re2::RE2::Options options;
    options.set_log_errors(false);
    const re2::RE2 regex(re2::StringPiece(pattern, length), options);
    result.error_code = static_cast<int>(regex.error_code());
    result.program_size = regex.ok() ? regex.ProgramSize() : 0;
    const std::string &argument = regex.error_arg();
    const size_t count = std::min(argument.size(), sizeof(result.error_argument) - 1);
    std::memcpy(result.error_argument, argument.data(), count);
    result.error_argument[count] = '\0';
    return result;
}

int switchboard_re2_full_match(const char *pattern, size_t pattern_length, const char *text, size_t text_length) {
    re2::RE2::Options options;
    options.set_log_errors(false);
    const re2::RE2 regex(re2::StringPiece(pattern, pattern_length), options);
    if (!regex.ok()) return -1;
    return re2::RE2::FullMatch(re2::StringPiece(text, text_length), regex) ? 1 : 0;
}
