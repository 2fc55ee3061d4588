/*
 * JPEG encoding through libjpeg(-turbo) into memory: baseline JFIF with jpeg_set_defaults()
 * (4:2:0 chroma subsampling for colour, ISLOW DCT, standard Huffman tables), as Pillow's save()
 * does by default. Gray input gives a one-component JPEG; RGBA input drops alpha.
 */
#include "cic_common.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

/* A destination manager appending to a cic_buffer. (jpeg_mem_dest is avoided: after it grows its
   buffer, the caller's pointer is stale until jpeg_finish_compress, so error paths cannot free it.) */
typedef struct {
  struct jpeg_destination_mgr manager;
  cic_buffer *out;
  JOCTET chunk[16384];
} buffer_destination;

static void init_destination(j_compress_ptr cinfo) {
  buffer_destination *d = (buffer_destination *)cinfo->dest;
  d->manager.next_output_byte = d->chunk;
  d->manager.free_in_buffer = sizeof d->chunk;
}

static boolean empty_output_buffer(j_compress_ptr cinfo) {
  buffer_destination *d = (buffer_destination *)cinfo->dest;
  if (cic_buffer_append(d->out, d->chunk, sizeof d->chunk) != 0) ERREXIT(cinfo, JERR_OUT_OF_MEMORY);
  init_destination(cinfo);
  return TRUE;
}

static void term_destination(j_compress_ptr cinfo) {
  buffer_destination *d = (buffer_destination *)cinfo->dest;
  size_t used = sizeof d->chunk - d->manager.free_in_buffer;
  if (cic_buffer_append(d->out, d->chunk, used) != 0) ERREXIT(cinfo, JERR_OUT_OF_MEMORY);
}

typedef struct {
  struct jpeg_error_mgr manager; /* first member: libjpeg hands callbacks a pointer to it */
  struct jpeg_compress_struct info;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  buffer_destination destination;
  uint8_t *row;         /* RGB copy of one RGBA row */
} jpeg_encoder;

static void on_error_exit(j_common_ptr cinfo) {
  jpeg_encoder *e = (jpeg_encoder *)cinfo->err;
  if (e->message[0] == '\0') cinfo->err->format_message(cinfo, e->message);
  longjmp(e->jump, 1);
}

static void on_emit_message(j_common_ptr cinfo, int level) {
  (void)cinfo;
  (void)level;
}

static void on_output_message(j_common_ptr cinfo) { (void)cinfo; }

static int write_image(jpeg_encoder *e, const uint8_t *pixels, uint32_t width, uint32_t height,
                       uint32_t channels, int quality, char *err, size_t errlen) {
  if (setjmp(e->jump)) {
    cic_set_error(err, errlen, "%s", e->message);
    return CIC_CORRUPT;
  }
  jpeg_create_compress(&e->info);
  e->destination.manager.init_destination = init_destination;
  e->destination.manager.empty_output_buffer = empty_output_buffer;
  e->destination.manager.term_destination = term_destination;
  e->info.dest = &e->destination.manager;
  e->info.image_width = width;
  e->info.image_height = height;
  e->info.input_components = channels == 1 ? 1 : 3;
  e->info.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&e->info);
  jpeg_set_quality(&e->info, quality, TRUE);
  jpeg_start_compress(&e->info, TRUE);
  size_t stride = (size_t)width * channels;
  while (e->info.next_scanline < height) {
    const uint8_t *source = pixels + (size_t)e->info.next_scanline * stride;
    JSAMPROW row = (JSAMPROW)source;
    if (channels == 4) {
      for (uint32_t x = 0; x < width; x++) memcpy(e->row + 3 * (size_t)x, source + 4 * (size_t)x, 3);
      row = e->row;
    }
    jpeg_write_scanlines(&e->info, &row, 1);
  }
  jpeg_finish_compress(&e->info);
  return CIC_OK;
}

int cic_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                    int quality, cic_buffer *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  cic_set_error(err, errlen, "%s", "");
  if (pixels == NULL || width == 0 || height == 0 || width > JPEG_MAX_DIMENSION ||
      height > JPEG_MAX_DIMENSION || (channels != 1 && channels != 3 && channels != 4)) {
    cic_set_error(err, errlen, "cannot encode a %ux%u image with %u channels as JPEG (at most %u per side)",
                  width, height, channels, (unsigned)JPEG_MAX_DIMENSION);
    return CIC_INVALID_ARGUMENT;
  }
  if (quality < 1 || quality > 100) {
    cic_set_error(err, errlen, "JPEG quality must be 1...100 (got %d)", quality);
    return CIC_INVALID_ARGUMENT;
  }
  jpeg_encoder *e = calloc(1, sizeof(jpeg_encoder));
  if (e == NULL || (channels == 4 && (e->row = malloc((size_t)width * 3)) == NULL)) {
    free(e);
    cic_set_error(err, errlen, "out of memory");
    return CIC_NO_MEMORY;
  }
  e->destination.out = out;
  e->info.err = jpeg_std_error(&e->manager);
  e->manager.error_exit = on_error_exit;
  e->manager.emit_message = on_emit_message;
  e->manager.output_message = on_output_message;
  int status = write_image(e, pixels, width, height, channels, quality, err, errlen);
  jpeg_destroy_compress(&e->info);
  if (status != CIC_OK) cic_buffer_free(out);
  free(e->row);
  free(e);
  return status;
}
