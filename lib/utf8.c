/*
 * utf8.c - a small strict UTF-8 decoder (see utf8.h).
 *
 * json-c passes string bytes through unchecked unless asked to validate the
 * whole document; we validate per string so that the error can name the
 * field.  The decoder returns the length of one well-formed sequence or 0.
 */
#include "utf8.h"

#include <string.h>

/* Length of the well-formed sequence at s (at most n bytes), 0 if ill-formed.
 * Stores the code point in *cp. */
static size_t decode(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        if (n < 2 || (s[1] & 0xC0) != 0x80)
            return 0;
        *cp = ((c & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && s[1] > 0x9F)
            return 0; /* surrogate */
        *cp = ((c & 0x0F) << 12) | ((unsigned)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xF4 && s[1] > 0x8F)
            return 0; /* above U+10FFFF */
        *cp = ((c & 0x07) << 18) | ((unsigned)(s[1] & 0x3F) << 12) |
              ((unsigned)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return 4;
    }
    return 0;
}

static bool is_control(unsigned cp)
{
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0);
}

bool utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, k;
    unsigned cp;

    while (i < len) {
        if (p[i] == 0)
            return false;
        k = decode(p + i, len - i, &cp);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

size_t utf8_count(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i, n = 0;

    for (i = 0; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            n++;
    return n;
}

bool utf8_printable(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, k;
    unsigned cp;

    while (i < len) {
        k = decode(p + i, len - i, &cp);
        if (k == 0 || is_control(cp))
            return false;
        i += k;
    }
    return true;
}

void utf8_copy_sanitized(char *dst, size_t dstsz, const char *src)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t n = strlen(src), i = 0, o = 0, k;
    unsigned cp;

    while (i < n) {
        k = decode(p + i, n - i, &cp);
        if (k == 0 || is_control(cp)) {
            if (o + 1 >= dstsz)
                break;
            /* cp is only set when k != 0: test k first */
            dst[o++] = k && (cp == '\n' || cp == '\t' || cp == '\r') ? ' ' : '?';
            i += k ? k : 1;
            continue;
        }
        if (o + k >= dstsz)
            break;
        memcpy(dst + o, p + i, k);
        o += k;
        i += k;
    }
    dst[o] = '\0';
}

void utf8_sanitize(char *s, size_t cap)
{
    char tmp[512];

    if (cap > sizeof(tmp))
        cap = sizeof(tmp);
    utf8_copy_sanitized(tmp, cap, s);
    memcpy(s, tmp, strlen(tmp) + 1);
}
