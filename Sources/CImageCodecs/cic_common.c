#include "cic_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cic_set_error(char *err, size_t errlen, const char *format, ...) {
  if (err == NULL || errlen == 0) return;
  va_list args;
  va_start(args, format);
  vsnprintf(err, errlen, format, args);
  va_end(args);
}

int cic_check_dimensions(uint32_t width, uint32_t height, char *err, size_t errlen) {
  if (width == 0 || height == 0) {
    cic_set_error(err, errlen, "image has zero size (%ux%u)", width, height);
    return CIC_CORRUPT;
  }
  if (width > CIC_MAX_SIDE || height > CIC_MAX_SIDE ||
      (uint64_t)width * (uint64_t)height > (uint64_t)CIC_MAX_PIXELS) {
    cic_set_error(err, errlen, "image is %ux%u pixels; the limit is %u per side and %u pixels",
                  width, height, CIC_MAX_SIDE, CIC_MAX_PIXELS);
    return CIC_TOO_LARGE;
  }
  return CIC_OK;
}

int cic_buffer_append(cic_buffer *buffer, const uint8_t *bytes, size_t length) {
  if (length > SIZE_MAX - buffer->length) return -1;
  size_t needed = buffer->length + length;
  if (needed > buffer->capacity) {
    size_t capacity = buffer->capacity ? buffer->capacity : 4096;
    while (capacity < needed) capacity = capacity > SIZE_MAX / 2 ? needed : capacity * 2;
    uint8_t *grown = realloc(buffer->bytes, capacity);
    if (grown == NULL) return -1;
    buffer->bytes = grown;
    buffer->capacity = capacity;
  }
  memcpy(buffer->bytes + buffer->length, bytes, length);
  buffer->length = needed;
  return 0;
}

int cic_image_add_text(cic_image *image, const char *key, const char *value, int value_is_utf8) {
  cic_text *grown = realloc(image->text, (image->text_count + 1) * sizeof(cic_text));
  if (grown == NULL) return -1;
  image->text = grown;
  cic_text *t = &image->text[image->text_count];
  t->key = strdup(key ? key : "");
  t->value = strdup(value ? value : "");
  t->value_length = t->value ? strlen(t->value) : 0;
  t->value_is_utf8 = value_is_utf8;
  if (t->key == NULL || t->value == NULL) {
    free(t->key);
    free(t->value);
    return -1;
  }
  image->text_count += 1;
  return 0;
}

void cic_image_free(cic_image *image) {
  if (image == NULL) return;
  for (size_t i = 0; i < image->text_count; i++) {
    free(image->text[i].key);
    free(image->text[i].value);
  }
  free(image->text);
  free(image->pixels);
  memset(image, 0, sizeof *image);
}

void cic_buffer_free(cic_buffer *buffer) {
  if (buffer == NULL) return;
  free(buffer->bytes);
  memset(buffer, 0, sizeof *buffer);
}
