/* Helpers shared by the codec wrappers (internal to CImageCodecs). */
#ifndef CIC_COMMON_H
#define CIC_COMMON_H

#include "CImageCodecs.h"

/* Writes a formatted one-line message into err (truncated to errlen, always NUL-terminated). */
void cic_set_error(char *err, size_t errlen, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* CIC_OK, or CIC_TOO_LARGE with a message when width x height is over the decoder limits. */
int cic_check_dimensions(uint32_t width, uint32_t height, char *err, size_t errlen);

/* Appends bytes, growing the buffer geometrically. Returns 0 on success, -1 when out of memory. */
int cic_buffer_append(cic_buffer *buffer, const uint8_t *bytes, size_t length);

/* Copies a text chunk into image->text (grows the array). Returns 0, or -1 when out of memory. */
int cic_image_add_text(cic_image *image, const char *key, const char *value, int value_is_utf8);

#endif
