/*
 * JPEG decoding through libjpeg(-turbo), from a memory buffer.
 *
 * Decoder settings are libjpeg's defaults (JDCT_ISLOW, fancy upsampling), which is what Pillow uses
 * when it is not in draft mode, so the pixels match Pillow's. Errors longjmp back to the setjmp in
 * read_image(); state that must survive the jump lives in `jpeg_decoder` (the caller's frame).
 *
 * Truncation: libjpeg's memory source answers end-of-data with a warning and a fake EOI marker,
 * then fills the rest of the image with gray. We turn that warning into an error while the image is
 * still being read, as Pillow reports "image file is truncated". Other warnings (corrupt entropy
 * data, extraneous bytes) are ignored, as in Pillow.
 */
#include "cic_common.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

typedef struct {
  struct jpeg_error_mgr manager; /* first member: libjpeg hands callbacks a pointer to it */
  struct jpeg_decompress_struct info;
  jmp_buf jump;
  int ran_out;
  int too_big;
  char message[JMSG_LENGTH_MAX];
  cic_image *out;
} jpeg_decoder;

static void on_error_exit(j_common_ptr cinfo) {
  jpeg_decoder *d = (jpeg_decoder *)cinfo->err;
  if (cinfo->err->msg_code == JERR_IMAGE_TOO_BIG) d->too_big = 1;
  if (d->message[0] == '\0') cinfo->err->format_message(cinfo, d->message);
  longjmp(d->jump, 1);
}

static void on_emit_message(j_common_ptr cinfo, int level) {
  jpeg_decoder *d = (jpeg_decoder *)cinfo->err;
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
    d->ran_out = 1;
    longjmp(d->jump, 1);
  }
}

static void on_output_message(j_common_ptr cinfo) { (void)cinfo; }

static int check_color_space(jpeg_decoder *d, char *err, size_t errlen) {
  switch (d->info.jpeg_color_space) {
  case JCS_GRAYSCALE:
  case JCS_YCbCr:
  case JCS_RGB:
    return CIC_OK;
  case JCS_CMYK:
    cic_set_error(err, errlen, "CMYK JPEG images are not supported (convert it to RGB first)");
    return CIC_UNSUPPORTED;
  case JCS_YCCK:
    cic_set_error(err, errlen, "YCCK (CMYK) JPEG images are not supported (convert it to RGB first)");
    return CIC_UNSUPPORTED;
  default:
    cic_set_error(err, errlen, "JPEG images with %d colour components of unknown meaning are not supported",
                  d->info.num_components);
    return CIC_UNSUPPORTED;
  }
}

/* Spreads each row's first `width` gray bytes to RGB, right to left so nothing is overwritten early. */
static void gray_to_rgb(uint8_t *pixels, uint32_t width, uint32_t height) {
  for (uint32_t y = 0; y < height; y++) {
    uint8_t *row = pixels + (size_t)y * width * 3;
    for (uint32_t x = width; x-- > 0;) {
      uint8_t v = row[x];
      row[3 * x] = v;
      row[3 * x + 1] = v;
      row[3 * x + 2] = v;
    }
  }
}

/* Huffman coding spends at least one bit on every block's DC coefficient (baseline and progressive
   alike), so a file shorter than blocks/8 bytes cannot hold the image it declares. (Arithmetic coding
   has no such floor and is not checked.) */
static int implausibly_short(jpeg_decoder *d, size_t length) {
  if (d->info.arith_code) return 0;
  uint64_t blocks = 0;
  for (int c = 0; c < d->info.num_components; c++)
    blocks += (uint64_t)d->info.comp_info[c].width_in_blocks * d->info.comp_info[c].height_in_blocks;
  return blocks / 8 > (uint64_t)length;
}

static int read_image(jpeg_decoder *d, const uint8_t *bytes, size_t length, char *err, size_t errlen) {
  if (setjmp(d->jump)) {
    if (d->ran_out) return CIC_TRUNCATED;
    cic_set_error(err, errlen, "%s", d->message);
    if (!d->too_big) return CIC_CORRUPT;
    d->out->width = d->info.image_width;
    d->out->height = d->info.image_height;
    return CIC_TOO_LARGE;
  }
  jpeg_create_decompress(&d->info);
  jpeg_mem_src(&d->info, bytes, (unsigned long)length);
  jpeg_read_header(&d->info, TRUE);
  int status = check_color_space(d, err, errlen);
  if (status != CIC_OK) return status;
  uint32_t width = d->info.image_width;
  uint32_t height = d->info.image_height;
  d->out->width = width; /* the declared size, reported with CIC_TOO_LARGE */
  d->out->height = height;
  status = cic_check_dimensions(width, height, err, errlen);
  if (status != CIC_OK) return status;
  if (implausibly_short(d, length)) {
    cic_set_error(err, errlen, "a %ux%u image cannot fit in %zu bytes", width, height, length);
    return CIC_TRUNCATED;
  }

  int gray = d->info.jpeg_color_space == JCS_GRAYSCALE;
  d->info.out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&d->info);
  if (d->info.output_width != width || d->info.output_height != height ||
      d->info.output_components != (gray ? 1 : 3)) {
    cic_set_error(err, errlen, "unexpected decoder output layout");
    return CIC_CORRUPT;
  }
  size_t row_bytes = (size_t)width * 3;
  d->out->pixels = malloc(row_bytes * height);
  if (d->out->pixels == NULL) {
    cic_set_error(err, errlen, "out of memory for a %ux%u image", width, height);
    return CIC_NO_MEMORY;
  }
  while (d->info.output_scanline < height) {
    JSAMPROW row = d->out->pixels + (size_t)d->info.output_scanline * row_bytes;
    jpeg_read_scanlines(&d->info, &row, 1);
  }
  if (gray) gray_to_rgb(d->out->pixels, width, height);
  d->out->channels = 3;
  /* The image is complete; whatever follows (EOI, trailing bytes) is not read, as in Pillow. */
  return CIC_OK;
}

int cic_jpeg_decode(const uint8_t *bytes, size_t length, cic_image *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  cic_set_error(err, errlen, "%s", "");
  if (length < 3) return CIC_TRUNCATED;
  jpeg_decoder *d = calloc(1, sizeof(jpeg_decoder));
  if (d == NULL) {
    cic_set_error(err, errlen, "out of memory");
    return CIC_NO_MEMORY;
  }
  d->out = out;
  d->info.err = jpeg_std_error(&d->manager);
  d->manager.error_exit = on_error_exit;
  d->manager.emit_message = on_emit_message;
  d->manager.output_message = on_output_message;
  int status = read_image(d, bytes, length, err, errlen);
  jpeg_destroy_decompress(&d->info);
  free(d);
  if (status != CIC_OK) {
    uint32_t width = out->width, height = out->height;
    cic_image_free(out);
    if (status == CIC_TOO_LARGE) out->width = width, out->height = height;
  }
  return status;
}
