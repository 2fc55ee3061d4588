/*
 * PNG encoding through libpng into a growing memory buffer: 8-bit gray, RGB or RGBA, zlib level 6
 * with libpng's adaptive filters (Pillow's defaults), text chunks before the image data.
 */
#include "cic_common.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char message[256];
  jmp_buf jump;
  int no_memory;
  png_structp png;
  png_infop info;
  png_textp text;
  png_bytep *rows;
  cic_buffer *out;
} png_encoder;

static void on_error(png_structp png, png_const_charp message) {
  png_encoder *e = (png_encoder *)png_get_error_ptr(png);
  if (e->message[0] == '\0') snprintf(e->message, sizeof e->message, "%s", message);
  longjmp(e->jump, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
  (void)png;
  (void)message;
}

static void on_write(png_structp png, png_bytep bytes, size_t count) {
  png_encoder *e = (png_encoder *)png_get_io_ptr(png);
  if (cic_buffer_append(e->out, bytes, count) != 0) {
    e->no_memory = 1;
    png_error(png, "out of memory");
  }
}

static void on_flush(png_structp png) { (void)png; }

/* PNG keywords: 1-79 printable Latin-1 bytes, no leading, trailing or consecutive spaces. */
static int valid_keyword(const char *key) {
  size_t n = strlen(key);
  if (n == 0 || n > 79 || key[0] == ' ' || key[n - 1] == ' ') return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)key[i];
    if (!((c >= 32 && c <= 126) || c >= 161)) return 0;
    if (c == ' ' && key[i + 1] == ' ') return 0;
  }
  return 1;
}

static int write_image(png_encoder *e, const uint8_t *pixels, uint32_t width, uint32_t height,
                       uint32_t channels, size_t text_count, char *err, size_t errlen) {
  if (setjmp(e->jump)) {
    if (e->no_memory) {
      cic_set_error(err, errlen, "out of memory");
      return CIC_NO_MEMORY;
    }
    cic_set_error(err, errlen, "%s", e->message);
    return CIC_CORRUPT;
  }
  int color_type = channels == 1 ? PNG_COLOR_TYPE_GRAY
                   : channels == 3 ? PNG_COLOR_TYPE_RGB
                                   : PNG_COLOR_TYPE_RGB_ALPHA;
  png_set_write_fn(e->png, e, on_write, on_flush);
  png_set_IHDR(e->png, e->info, width, height, 8, color_type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(e->png, 6);
  if (text_count > 0) png_set_text(e->png, e->info, e->text, (int)text_count);
  png_write_info(e->png, e->info);
  size_t row_bytes = (size_t)width * channels;
  for (uint32_t y = 0; y < height; y++) e->rows[y] = (png_bytep)(pixels + (size_t)y * row_bytes);
  png_write_image(e->png, e->rows);
  png_write_end(e->png, NULL);
  return CIC_OK;
}

int cic_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                   const char *const *keys, const char *const *values, const int *values_utf8,
                   size_t text_count, cic_buffer *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  cic_set_error(err, errlen, "%s", "");
  if (pixels == NULL || width == 0 || height == 0 || width > PNG_UINT_31_MAX ||
      height > PNG_UINT_31_MAX || (channels != 1 && channels != 3 && channels != 4) ||
      text_count > 1000) {
    cic_set_error(err, errlen, "cannot encode a %ux%u image with %u channels as PNG", width, height, channels);
    return CIC_INVALID_ARGUMENT;
  }
  for (size_t i = 0; i < text_count; i++) {
    if (!valid_keyword(keys[i])) {
      cic_set_error(err, errlen,
                    "invalid PNG text key \"%.100s\" (1-79 printable Latin-1 characters, "
                    "no leading, trailing or double spaces)", keys[i]);
      return CIC_INVALID_ARGUMENT;
    }
  }
  png_encoder e;
  memset(&e, 0, sizeof e);
  e.out = out;
  e.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &e, on_error, on_warning);
  if (e.png != NULL) e.info = png_create_info_struct(e.png);
  e.rows = malloc(sizeof(png_bytep) * height);
  e.text = text_count ? calloc(text_count, sizeof(png_text)) : NULL;
  int status = CIC_OK;
  if (e.png == NULL || e.info == NULL || e.rows == NULL || (text_count && e.text == NULL)) {
    cic_set_error(err, errlen, "out of memory");
    status = CIC_NO_MEMORY;
  } else {
    for (size_t i = 0; i < text_count; i++) {
      int utf8 = values_utf8 != NULL && values_utf8[i];
      e.text[i].compression = utf8 ? PNG_ITXT_COMPRESSION_NONE : PNG_TEXT_COMPRESSION_NONE;
      e.text[i].key = (png_charp)keys[i];
      e.text[i].text = (png_charp)values[i];
    }
    status = write_image(&e, pixels, width, height, channels, text_count, err, errlen);
  }
  png_destroy_write_struct(e.png ? &e.png : NULL, e.info ? &e.info : NULL);
  free(e.rows);
  free(e.text);
  if (status != CIC_OK) cic_buffer_free(out);
  return status;
}
