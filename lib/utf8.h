/*
 * utf8.h - UTF-8 validation and sanitising (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF).
 *
 * Used by the validator (to name the field holding invalid UTF-8) and by
 * everything that copies client bytes into an answer or a log line.
 */
#ifndef BT_UTF8_H
#define BT_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is well-formed UTF-8 with no NUL byte. */
bool utf8_valid(const char *s, size_t len);

/* Number of code points in well-formed s[0..len). */
size_t utf8_count(const char *s, size_t len);

/* True when s has no control characters (C0, DEL, C1); s must be valid UTF-8. */
bool utf8_printable(const char *s, size_t len);

/* Copies src into dst (size dstsz >= 1), replacing every invalid byte or
 * control character with '?', truncating on a character boundary. */
void utf8_copy_sanitized(char *dst, size_t dstsz, const char *src);

/* Sanitises a NUL-terminated buffer in place (same rules). */
void utf8_sanitize(char *s, size_t cap);

#endif
