#ifndef CIMAGECODECS_H
#define CIMAGECODECS_H

/*
 * PNG and JPEG decode/encode for sdedit.
 *
 * libpng and libjpeg report errors by longjmp (and by default print and exit). Every setjmp,
 * longjmp and library callback stays inside this C target: each function returns a status code
 * and writes a one-line, NUL-terminated message into `err` (at most `errlen` bytes, may be 0).
 * Nothing is printed and nothing aborts. Buffers handed out are released with the matching
 * cic_*_free function, also after a failure (they are then empty). After CIC_TOO_LARGE a decoder
 * leaves the declared size in out->width/height.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest image accepted by the decoders, checked before any pixel memory is allocated: 16384 a
   side and 64 Mpx (8192²; 192 MB of RGB bytes, 805 MB as a float tensor). Found by the mask
   fuzzer: a 200-byte JPEG declaring 9984×8449 used to be accepted and cost 1.3 GB. */
#define CIC_MAX_SIDE 16384u
#define CIC_MAX_PIXELS (1u << 26)
/* Largest ancillary PNG chunk (text, ICC profile, ...) the decoder allocates: 16 MB. */
#define CIC_MAX_CHUNK_BYTES (16u << 20)

typedef enum {
  CIC_OK = 0,
  CIC_TRUNCATED = 1,   /* the data ends before the image does */
  CIC_CORRUPT = 2,     /* malformed data (bad header, CRC, Huffman/zlib stream, ...) */
  CIC_TOO_LARGE = 3,   /* dimensions over CIC_MAX_SIDE / CIC_MAX_PIXELS */
  CIC_UNSUPPORTED = 4, /* valid file of a kind we do not handle (CMYK JPEG, ...) */
  CIC_NO_MEMORY = 5,
  CIC_INVALID_ARGUMENT = 6 /* bad arguments from the caller (encoders) */
} cic_status;

/* One text chunk (PNG tEXt, zTXt or iTXt). Strings are NUL-terminated. */
typedef struct {
  char *key;      /* Latin-1 keyword */
  char *value;    /* Latin-1 for tEXt/zTXt, UTF-8 for iTXt */
  size_t value_length;
  int value_is_utf8;
} cic_text;

/* A decoded image: 8 bits per sample, interleaved rows, no padding. */
typedef struct {
  uint32_t width;
  uint32_t height;
  uint32_t channels; /* 3 (RGB) or 4 (RGBA) */
  uint8_t *pixels;   /* width * height * channels bytes */
  cic_text *text;    /* PNG text chunks in file order (JPEG: none) */
  size_t text_count;
} cic_image;

/* An encoded file. */
typedef struct {
  uint8_t *bytes;
  size_t length;
  size_t capacity;
} cic_buffer;

/*
 * Decodes any PNG (bit depth 1-16; gray, gray+alpha, RGB, RGBA, palette; tRNS; Adam7) to 8-bit RGB,
 * or RGBA when the file has an alpha channel or a tRNS chunk. 16-bit samples keep their high byte
 * (as Pillow does for 16-bit RGB/RGBA/LA), gray is replicated to RGB, palettes are expanded.
 */
int cic_png_decode(const uint8_t *bytes, size_t length, cic_image *out, char *err, size_t errlen);

/*
 * Decodes a baseline or progressive JPEG (RGB/YCbCr or grayscale) to 8-bit RGB (channels = 3), with
 * libjpeg's defaults (ISLOW IDCT, fancy upsampling), as Pillow does. CMYK/YCCK give CIC_UNSUPPORTED;
 * data that ends early gives CIC_TRUNCATED rather than a gray-filled image.
 */
int cic_jpeg_decode(const uint8_t *bytes, size_t length, cic_image *out, char *err, size_t errlen);

/* Releases out->pixels and out->text and zeroes the struct. Safe on a zeroed struct. */
void cic_image_free(cic_image *image);

/*
 * Encodes 8-bit gray (1), RGB (3) or RGBA (4) pixels as PNG. Text chunks are written before the image
 * data: as tEXt when values_utf8[i] == 0 (value must be Latin-1), else as uncompressed iTXt.
 * Keys must be 1-79 Latin-1 characters. values_utf8 may be NULL (all tEXt).
 */
int cic_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                   const char *const *keys, const char *const *values, const int *values_utf8,
                   size_t text_count, cic_buffer *out, char *err, size_t errlen);

/*
 * Encodes 8-bit gray (1), RGB (3) or RGBA (4, alpha dropped) pixels as a baseline JFIF JPEG with
 * libjpeg's defaults (4:2:0 chroma subsampling for colour, as Pillow) at quality 1...100.
 */
int cic_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                    int quality, cic_buffer *out, char *err, size_t errlen);

/* Releases out->bytes and zeroes the struct. Safe on a zeroed struct. */
void cic_buffer_free(cic_buffer *buffer);

#ifdef __cplusplus
}
#endif

#endif
