/*
 * PNG decoding through libpng's sequential reader, from a memory buffer.
 *
 * libpng errors (and our own read callback running out of bytes) longjmp back to the setjmp in
 * read_image(); all state that must survive the jump lives in `png_decoder`, which belongs to the
 * caller's frame, so nothing indeterminate is read after the jump.
 */
#include "cic_common.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const uint8_t *bytes;
  size_t length;
  size_t offset;
  int ran_out;  /* the read callback was asked for bytes past the end */
  char message[256];
  jmp_buf jump;
  png_structp png;
  png_infop info;
  png_bytep *rows;
  cic_image *out;
} png_decoder;

static void on_error(png_structp png, png_const_charp message) {
  png_decoder *d = (png_decoder *)png_get_error_ptr(png);
  if (d->message[0] == '\0') snprintf(d->message, sizeof d->message, "%s", message);
  longjmp(d->jump, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
  (void)png;
  (void)message; /* ancillary-chunk problems: libpng skips the chunk, as Pillow does */
}

static void on_read(png_structp png, png_bytep destination, size_t count) {
  png_decoder *d = (png_decoder *)png_get_io_ptr(png);
  if (count > d->length - d->offset) {
    d->ran_out = 1;
    png_error(png, "unexpected end of data");
  }
  memcpy(destination, d->bytes + d->offset, count);
  d->offset += count;
}

/* libpng's allocator: refuses any single block over CIC_MAX_CHUNK_BYTES (libpng then reports "out
   of memory", a benign error for an ancillary chunk, which is skipped). libpng's own buffers are a
   few rows of a <= 16384-pixel image, far below the cap. */
static png_voidp bounded_malloc(png_structp png, png_alloc_size_t size) {
  (void)png;
  return size > CIC_MAX_CHUNK_BYTES ? NULL : malloc(size);
}

static void bounded_free(png_structp png, png_voidp pointer) {
  (void)png;
  free(pointer);
}

/* A deflate stream expands at most ~1032:1, so a file this short cannot hold the image it declares. */
static int implausibly_short(png_decoder *d, uint32_t width, uint32_t height, int bit_depth, int channels) {
  uint64_t row_bits = (uint64_t)width * (uint64_t)(bit_depth * channels);
  uint64_t raw = ((row_bits + 7) / 8 + 1) * (uint64_t)height;
  return raw > (uint64_t)d->length * 1032u + 65536u;
}

/* Reads the header and the pixels. Returns a cic_status; on failure err is filled. */
static int read_image(png_decoder *d, char *err, size_t errlen) {
  if (setjmp(d->jump)) {
    if (d->ran_out) return CIC_TRUNCATED;
    cic_set_error(err, errlen, "%s", d->message);
    return CIC_CORRUPT;
  }
  png_read_info(d->png, d->info);
  uint32_t width = png_get_image_width(d->png, d->info);
  uint32_t height = png_get_image_height(d->png, d->info);
  d->out->width = width; /* the declared size, reported with CIC_TOO_LARGE */
  d->out->height = height;
  int status = cic_check_dimensions(width, height, err, errlen);
  if (status != CIC_OK) return status;
  if (implausibly_short(d, width, height, png_get_bit_depth(d->png, d->info),
                        png_get_channels(d->png, d->info))) {
    cic_set_error(err, errlen, "a %ux%u image cannot fit in %zu bytes", width, height, d->length);
    return CIC_TRUNCATED;
  }

  png_set_expand(d->png);        /* palette -> RGB, gray 1/2/4 -> 8 bits, tRNS -> alpha */
  png_set_strip_16(d->png);      /* 16 -> 8 bits keeping the high byte (Pillow's ";16B" raw modes) */
  png_set_gray_to_rgb(d->png);
  png_set_interlace_handling(d->png);
  png_read_update_info(d->png, d->info);
  uint32_t channels = png_get_channels(d->png, d->info);
  size_t row_bytes = png_get_rowbytes(d->png, d->info);
  if ((channels != 3 && channels != 4) || row_bytes != (size_t)width * channels) {
    cic_set_error(err, errlen, "unexpected layout after conversion (%u channels)", channels);
    return CIC_CORRUPT;
  }

  d->out->pixels = malloc(row_bytes * height);
  d->rows = malloc(sizeof(png_bytep) * height);
  if (d->out->pixels == NULL || d->rows == NULL) {
    cic_set_error(err, errlen, "out of memory for a %ux%u image", width, height);
    return CIC_NO_MEMORY;
  }
  for (uint32_t y = 0; y < height; y++) d->rows[y] = d->out->pixels + (size_t)y * row_bytes;
  png_read_image(d->png, d->rows);
  d->out->channels = channels;
  return CIC_OK;
}

/* Chunks after the image data (text, IEND). Like Pillow, problems here do not fail the decode. */
static void read_tail(png_decoder *d) {
  if (setjmp(d->jump)) return;
  png_read_end(d->png, d->info);
}

static int copy_text(png_decoder *d, char *err, size_t errlen) {
  png_textp text = NULL;
  int count = png_get_text(d->png, d->info, &text, NULL);
  for (int i = 0; i < count; i++) {
    int utf8 = text[i].compression == PNG_ITXT_COMPRESSION_NONE ||
               text[i].compression == PNG_ITXT_COMPRESSION_zTXt;
    if (cic_image_add_text(d->out, text[i].key, text[i].text, utf8) != 0) {
      cic_set_error(err, errlen, "out of memory for text chunks");
      return CIC_NO_MEMORY;
    }
  }
  return CIC_OK;
}

int cic_png_decode(const uint8_t *bytes, size_t length, cic_image *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  cic_set_error(err, errlen, "%s", "");
  if (length < 8) return CIC_TRUNCATED;
  if (png_sig_cmp(bytes, 0, 8) != 0) {
    cic_set_error(err, errlen, "bad PNG signature");
    return CIC_CORRUPT;
  }
  png_decoder d;
  memset(&d, 0, sizeof d);
  d.bytes = bytes;
  d.length = length;
  d.out = out;
  d.png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &d, on_error, on_warning, NULL, bounded_malloc,
                                   bounded_free);
  if (d.png != NULL) d.info = png_create_info_struct(d.png);
  if (d.png == NULL || d.info == NULL) {
    png_destroy_read_struct(d.png ? &d.png : NULL, NULL, NULL);
    cic_set_error(err, errlen, "out of memory");
    return CIC_NO_MEMORY;
  }
  png_set_read_fn(d.png, &d, on_read);
  /* We apply our own (tighter) size limit after the header; lift libpng's 1e6-per-side default so an
     oversized header is reported as "too large" rather than as a malformed header. */
  png_set_user_limits(d.png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
  /* libpng allocates an ancillary chunk (text, ICC profile, ...) at the length its header declares,
     before reading it. Debian's libpng 1.6.39 does not apply chunk_malloc_max to tEXt, so
     bounded_malloc (above) enforces the cap too: a 1 KB file declaring a 1 GB tEXt chunk made
     libpng allocate 1 GB (found by fuzzing). The pixels are allocated by us, not by libpng. */
  png_set_chunk_malloc_max(d.png, CIC_MAX_CHUNK_BYTES);
  png_set_chunk_cache_max(d.png, 1000);

  int status = read_image(&d, err, errlen);
  if (status == CIC_OK) {
    read_tail(&d);
    status = copy_text(&d, err, errlen);
  }
  png_destroy_read_struct(&d.png, &d.info, NULL);
  free(d.rows);
  if (status != CIC_OK) {
    uint32_t width = out->width, height = out->height;
    cic_image_free(out);
    if (status == CIC_TOO_LARGE) out->width = width, out->height = height;
  }
  return status;
}
