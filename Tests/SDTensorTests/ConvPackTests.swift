import CKernels
@testable import SDTensor
import SDTestSupport
import Testing

/// Implicit im2col (Sources/CKernels/ConvPack.c): the B panels packed straight from the image
/// must be bit-identical to building the column matrix and packing it, for the fp32 and the bf16
/// GEMM; and the packed convolution must match the explicit-im2col results.
@Suite(.enabled(if: F32GEMM.isAvailable, "this CPU has no AVX-512: convolutions use im2col + sgemm"))
struct ConvPackTests {
  /// (channels, height, width, kernel h, kernel w, stride, padding)
  typealias Shape = (c: Int, h: Int, w: Int, kh: Int, kw: Int, stride: Int, padding: Conv2DPadding)

  static let shapes: [Shape] = [
    (3, 7, 9, 3, 3, 1, .uniform(1)), (5, 13, 11, 3, 3, 2, .uniform(1)), (4, 8, 8, 1, 1, 1, .uniform(0)),
    (2, 9, 10, 3, 3, 2, Conv2DPadding(top: 0, left: 0, bottom: 1, right: 1)), (3, 5, 70, 3, 3, 1, .uniform(1)),
    (31, 17, 19, 3, 3, 1, .uniform(1)), (6, 1, 1, 3, 3, 1, .uniform(1)), (7, 3, 50, 1, 3, 1, Conv2DPadding(top: 0, left: 2, bottom: 0, right: 1)),
    (2, 40, 3, 3, 1, 3, Conv2DPadding(top: 1, left: 0, bottom: 2, right: 0)), (1, 30, 33, 5, 5, 2, .uniform(2)),
    (9, 4, 4, 3, 3, 1, .uniform(2)), (60, 6, 6, 3, 3, 1, .uniform(1)),
  ]

  static func outputSize(_ s: Shape) -> (Int, Int) {
    ((s.h + s.padding.top + s.padding.bottom - s.kh) / s.stride + 1, (s.w + s.padding.left + s.padding.right - s.kw) / s.stride + 1)
  }

  /// The explicit column matrix [c·kh·kw × outH·outW] of one image.
  static func columns(_ x: [Float], _ s: Shape) -> [Float] {
    let (oh, ow) = outputSize(s)
    var out = [Float](repeating: 0, count: s.c * s.kh * s.kw * oh * ow)
    for ci in 0..<s.c { for ky in 0..<s.kh { for kx in 0..<s.kw {
      let row = (ci * s.kh + ky) * s.kw + kx
      for oy in 0..<oh { for ox in 0..<ow {
        let iy = oy * s.stride + ky - s.padding.top, ix = ox * s.stride + kx - s.padding.left
        if iy >= 0 && iy < s.h && ix >= 0 && ix < s.w { out[row * oh * ow + oy * ow + ox] = x[(ci * s.h + iy) * s.w + ix] }
      } }
    } } }
    return out
  }

  @Test(arguments: 0..<shapes.count)
  func implicitPackingMatchesExplicit(index: Int) {
    let s = Self.shapes[index]
    let (oh, ow) = Self.outputSize(s)
    let n = oh * ow, k = s.c * s.kh * s.kw
    var rng = TorchRandom(seed: UInt64(index + 1))
    var x = rng.randn([s.c * s.h * s.w]).data
    // Some values that round to bf16 ties and some negative zeros: the copy must be exact.
    for i in stride(from: 0, to: x.count, by: 7) { x[i] = Float(bitPattern: x[i].bitPattern & 0xffff_0000 | 0x8000) }
    if x.count > 3 { x[3] = -0.0 }
    let cols = Self.columns(x, s)
    for bf16 in BF16GEMM.isAvailable ? [false, true] : [false] {
      // Column ranges: whole panels from 0, a range starting mid-matrix, one past the end.
      for (x0, count) in [(0, n), (min(n - 1, 48), max(1, n - 48)), (0, min(n, 17))] where x0 < n {
        for k0 in stride(from: 0, to: k, by: 4) {
          for kc in [4, 2, k - k0 + (bf16 && (k - k0) % 2 == 1 ? 1 : 0)] where kc <= 256 && (!bf16 || kc % 2 == 0) {
            if bf16 && k0 % 2 == 1 { continue }
            let size = (count + 48) / 48 * 48 * kc + 64
            var implicit = [UInt32](repeating: 0x5555_5555, count: size), dense = implicit
            x.withUnsafeBufferPointer { xp in
              var source = ck_conv_source(
                image: xp.baseAddress!, channels: Int32(s.c), height: Int32(s.h), width: Int32(s.w),
                kernel_h: Int32(s.kh), kernel_w: Int32(s.kw), stride: Int32(s.stride),
                pad_top: Int32(s.padding.top), pad_left: Int32(s.padding.left), out_h: Int32(oh), out_w: Int32(ow), upsample: 1, norm_scale: nil, norm_shift: nil, norm_silu: 0)
              implicit.withUnsafeMutableBytes {
                ck_conv_pack_block(&source, bf16 ? 1 : 0, Int32(x0), Int32(count), Int32(k0), Int32(kc), $0.baseAddress!)
              }
            }
            cols.withUnsafeBufferPointer { cp in
              dense.withUnsafeMutableBytes {
                ck_dense_pack_block(cp.baseAddress!, n, Int32(k), Int32(n), bf16 ? 1 : 0, Int32(x0), Int32(count), Int32(k0), Int32(kc), $0.baseAddress!)
              }
            }
            #expect(implicit == dense, "shape \(index) bf16 \(bf16) x0 \(x0) count \(count) k0 \(k0) kc \(kc)")
            if implicit != dense { return }
          }
          if k0 > 12 { break }  // the first blocks cover every tap; the rest repeat them
        }
      }
    }
  }

  /// Whole convolutions (batch 2) with the packed fp32 and bf16 weights against the explicit
  /// column matrix multiplied by the same GEMM: identical, because the B panels are identical
  /// and the kernel's summation order does not depend on where the panels came from.
  @Test(arguments: 0..<shapes.count)
  func packedConvolutionMatchesExplicitColumns(index: Int) {
    let s = Self.shapes[index]
    let (oh, ow) = Self.outputSize(s)
    let n = oh * ow, k = s.c * s.kh * s.kw, o = 11
    var rng = TorchRandom(seed: UInt64(50 + index))
    let x = rng.randn([2, s.c, s.h, s.w]), w = rng.randn([o, s.c, s.kh, s.kw])
    for precision in BF16GEMM.isAvailable ? [Precision.fp32, .bf16] : [.fp32] {
      let weight = MatrixWeight(w, role: .convolution, precision: precision)
      let y = x.conv2d(weight: weight, bias: nil, stride: s.stride, padding: s.padding)
      for b in 0..<2 {
        let image = Array(x.data[b * s.c * s.h * s.w..<(b + 1) * s.c * s.h * s.w])
        var ref = [Float](repeating: 0, count: o * n)
        Self.columns(image, s).withUnsafeBufferPointer { cp in
          let columns = cp.baseAddress!
          ref.withUnsafeMutableBufferPointer { rp in
            if let packed = weight.packed {
              BF16GEMM.multiply(m: o, n: n, k: k, a: .packed(packed), b: .floats(columns, leadingDimension: n), c: rp.baseAddress!, ldc: n)
            } else {
              F32GEMM.multiply(m: o, n: n, k: k, a: .packed(weight.packedFloat!), b: .floats(columns, leadingDimension: n), c: rp.baseAddress!, ldc: n)
            }
          }
        }
        #expect(Array(y.data[b * o * n..<(b + 1) * o * n]) == ref, "shape \(index) \(precision) image \(b)")
      }
      // And the fp32 result is the convolution: against sgemm on the explicit columns.
      if precision == .fp32 {
        let banded = Tensor(shape: [2, o, oh, ow]) { out in
          x.withUnsafeBufferPointer { xp in
            for b in 0..<2 {
              let source = ck_conv_source(
                image: xp.baseAddress! + b * s.c * s.h * s.w, channels: Int32(s.c), height: Int32(s.h), width: Int32(s.w),
                kernel_h: Int32(s.kh), kernel_w: Int32(s.kw), stride: Int32(s.stride),
                pad_top: Int32(s.padding.top), pad_left: Int32(s.padding.left), out_h: Int32(oh), out_w: Int32(ow), upsample: 1, norm_scale: nil, norm_shift: nil, norm_silu: 0)
              Tensor.bandedConvolution(
                weight: w, source: source, pointwise: s.kh == 1 && s.kw == 1 && s.stride == 1 && s.padding == .uniform(0),
                into: out.baseAddress! + b * o * n)
            }
          }
        }
        #expect(Compare.maxAbsDiff(y.data, banded.data) <= 1e-5 * Float(k), "shape \(index)")
      }
    }
  }
}
