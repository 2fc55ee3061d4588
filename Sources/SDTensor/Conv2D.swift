import CKernels

/// 2-D convolution over NCHW tensors with PyTorch's weight layout `[out, in, kh, kw]`
/// (`torch.nn.functional.conv2d`, groups = 1), as the GEMM `y[out × HW] = W[out × in·kh·kw] ·
/// columns[in·kh·kw × HW]` per image.
///
/// With a packed weight (fp32 `F32GEMM` or bf16 `BF16GEMM`, see `MatrixWeight`) the column
/// matrix is never built: the GEMM packs each block of its B panels straight from the image
/// (implicit im2col, Sources/CKernels/ConvPack.c). With a plain fp32 weight (CPUs without
/// AVX-512) the column matrix for a band of output rows is built in a bounded buffer
/// (≤ `columnBudget` scalars) and multiplied by OpenBLAS.
public struct Conv2DPadding: Sendable, Equatable {
  public var top: Int, left: Int, bottom: Int, right: Int

  public init(top: Int, left: Int, bottom: Int, right: Int) {
    self.top = top; self.left = left; self.bottom = bottom; self.right = right
  }

  /// The same padding on every side.
  public static func uniform(_ p: Int) -> Conv2DPadding { .init(top: p, left: p, bottom: p, right: p) }
}

extension Tensor {
  /// Scalars allowed in one im2col band of the OpenBLAS path (16 MiB of Float).
  nonisolated(unsafe) static var columnBudget = 4 << 20

  /// Runs `body` with a different im2col band budget (tests use it to force many bands; the
  /// packed paths build no bands and ignore it).
  public static func withColumnBudget<R>(_ scalars: Int, _ body: () throws -> R) rethrows -> R {
    let saved = columnBudget
    columnBudget = scalars
    defer { columnBudget = saved }
    return try body()
  }

  public func conv2d(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
    conv2d(weight: weight, bias: bias, stride: stride, padding: .uniform(padding))
  }

  /// The same with an fp32 weight tensor (packed for this call where `F32GEMM` runs).
  public func conv2d(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Conv2DPadding) -> Tensor {
    conv2d(weight: MatrixWeight(weight, role: .convolution, precision: .fp32), bias: bias, stride: stride, padding: padding)
  }

  /// The same with a weight held for the current precision (packed bf16 or fp32, or plain fp32).
  /// `upsample` 2 convolves `upsampledNearest2x()` of the input; the packed kernels read the
  /// enlarged image straight from this one (`ck_conv_source.upsample`), so the 4× larger map is
  /// never stored — the largest tensor of a VAE decode. `normalized` convolves the input mapped
  /// through a GroupNorm's per-channel affine (and SiLU), applied as the input is read, so the
  /// normalised map need not be stored either (`fuseNorm`: nil decides by size, `fusesNorm`);
  /// the result is bit-identical to normalising first.
  public func conv2d(
    weight: MatrixWeight, bias: Tensor?, stride: Int = 1, padding: Conv2DPadding, upsample: Int = 1,
    normalized: ConvInputNorm? = nil, fuseNorm: Bool? = nil
  ) -> Tensor {
    precondition(rank == 4 && weight.shape.count == 4, "conv2d: input \(shape), weight \(weight.shape)")
    precondition(upsample == 1 || upsample == 2, "conv2d: upsample \(upsample) (1 or 2)")
    let packedWeight = weight.packed != nil || weight.packedFloat != nil || (weight.halves != nil && F32GEMM.isAvailable)
    let fuses = fuseNorm ?? Self.fusesNorm(inputBytes: count * MemoryLayout<Float>.size, taps: weight.shape[2] * weight.shape[3])
    if let normalized, !packedWeight || !fuses {
      return normalized.applied(to: self).conv2d(weight: weight, bias: bias, stride: stride, padding: padding, upsample: upsample)
    }
    if upsample == 2, !packedWeight {
      return upsampledNearest2x().conv2d(weight: weight, bias: bias, stride: stride, padding: padding)
    }
    if let normalized { precondition(normalized.scale.count == shape[0] * shape[1], "conv2d: normalisation for \(shape)") }
    let noNorm = [Float]()
    let (scales, shifts) = (normalized?.scale ?? noNorm, normalized?.shift ?? noNorm)
    let (n, c, h, w) = (shape[0], shape[1], shape[2] * upsample, shape[3] * upsample)  // (h, w): the convolved map
    let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
    precondition(weight.shape[1] == c, "conv2d: weight \(weight.shape) expects \(weight.shape[1]) channels, input has \(c)")
    precondition(stride >= 1, "conv2d: stride \(stride)")
    let outH = (h + padding.top + padding.bottom - kh) / stride + 1
    let outW = (w + padding.left + padding.right - kw) / stride + 1
    precondition(outH > 0 && outW > 0, "conv2d: output would be empty for input \(shape)")
    // A 16-bit weight multiplies as an fp32 one widened per call: packed whole once for all
    // images when the products are wide enough to reuse it, else block by block in the GEMM.
    var wholeA: PackedF32Matrix?
    // Without the packed kernels (no AVX-512), a 16-bit weight is widened once for this call.
    let floatWeight = packedWeight ? nil : weight.floatMatrix()
    if packedWeight, let halves = weight.halves, PackedConvolution.packsWhole(m: o, k: c * kh * kw, pixels: outH * outW) {
      wholeA = halves.operand(transposed: false).packedWhole(side: .a, rows: halves.rows, columns: halves.columns)
    }
    var y = Profiler.measure("conv2d") { Tensor(shape: [n, o, outH, outW]) { out in
      withUnsafeBufferPointer { xBuf in scales.withUnsafeBufferPointer { scaleBuf in shifts.withUnsafeBufferPointer { shiftBuf in
        let x = xBuf.baseAddress!, yb = out.baseAddress!
        for b in 0..<n {
          let (sourceH, sourceW) = (h / upsample, w / upsample)
          var source = ck_conv_source(
            image: x + b * c * sourceH * sourceW, channels: c, height: sourceH, width: sourceW, kernel: (kh, kw),
            stride: stride, padding: padding, output: (outH, outW), upsample: upsample)
          if let normalized {
            source.norm_scale = scaleBuf.baseAddress! + b * c
            source.norm_shift = shiftBuf.baseAddress! + b * c
            source.norm_silu = normalized.silu ? 1 : 0
          }
          let pointwise = kh == 1 && kw == 1 && stride == 1 && padding == .uniform(0) && upsample == 1 && normalized == nil
          let dst = yb + b * o * outH * outW
          if packedWeight {
            PackedConvolution.run(weight: weight, packedA: wholeA, source: source, pointwise: pointwise, into: dst)
          } else {
            Tensor.bandedConvolution(weight: floatWeight!, source: source, pointwise: pointwise, into: dst)
          }
        }
      } } }
    } }
    if let bias { y.addChannelBias(bias) }
    return y
  }

  /// Above this size an input map is normalised while the convolution reads it, never stored.
  static let fusedNormMinimumBytes = 128 << 20

  /// Whether a convolution applies its input's GroupNorm affine (and SiLU) while packing the
  /// columns (fused) rather than convolving a normalised copy. Fusing spares the copy but
  /// evaluates the affine and SiLU once per kernel tap — 9× for a 3×3 kernel — which made a
  /// batch-1 512² UNet step 20% slower and a 512² VAE decode 13% slower (bf16, AMD Zen 4). So a
  /// copy is made, unless the map is larger than `fusedNormMinimumBytes` (the full-size maps of
  /// a 1024² VAE decode, where the copy would raise the peak memory). Both give the same bits.
  static func fusesNorm(inputBytes: Int, taps: Int) -> Bool {
    taps == 1 || inputBytes > fusedNormMinimumBytes
  }

  /// The explicit-im2col path for any CPU, kept as the benchmark baseline: column bands
  /// multiplied by OpenBLAS `sgemm` with `weight`, or by the bf16 GEMM with `packedBF16` (the
  /// same weight packed as side `.a`) when given. No bias.
  public func conv2dIm2col(weight: Tensor, packedBF16: PackedBF16Matrix? = nil, stride: Int = 1, padding: Conv2DPadding) -> Tensor {
    let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
    let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
    let outH = (h + padding.top + padding.bottom - kh) / stride + 1
    let outW = (w + padding.left + padding.right - kw) / stride + 1
    return Tensor(shape: [n, o, outH, outW]) { out in
      withUnsafeBufferPointer { xBuf in
        for b in 0..<n {
          let source = ck_conv_source(
            image: xBuf.baseAddress! + b * c * h * w, channels: c, height: h, width: w, kernel: (kh, kw),
            stride: stride, padding: padding, output: (outH, outW))
          Tensor.bandedConvolution(
            weight: weight, packedBF16: packedBF16, source: source,
            pointwise: kh == 1 && kw == 1 && stride == 1 && padding == .uniform(0), into: out.baseAddress! + b * o * outH * outW)
        }
      }
    }
  }

  /// One image through explicit im2col bands and OpenBLAS `sgemm` (or `BF16GEMM` with
  /// `packedBF16`).
  static func bandedConvolution(
    weight: Tensor, packedBF16: PackedBF16Matrix? = nil, source s: ck_conv_source, pointwise: Bool,
    into yb: UnsafeMutablePointer<Float>
  ) {
    let (c, h, w) = (Int(s.channels), Int(s.height), Int(s.width))
    let (kh, kw, stride) = (Int(s.kernel_h), Int(s.kernel_w), Int(s.stride))
    let (outH, outW, top, left) = (Int(s.out_h), Int(s.out_w), Int(s.pad_top), Int(s.pad_left))
    let o = weight.shape[0], k = c * kh * kw, outPlane = outH * outW
    weight.withUnsafeBufferPointer { wb in
      let wt = wb.baseAddress!
      func multiply(_ b: UnsafePointer<Float>, columns: Int, into dst: UnsafeMutablePointer<Float>) {
        if let packedBF16 {
          BF16GEMM.multiply(m: o, n: columns, k: k, a: .packed(packedBF16), b: .floats(b, leadingDimension: columns), c: dst, ldc: outPlane)
        } else {
          GEMM.sgemm(m: o, n: columns, k: k, a: wt, lda: k, b: b, ldb: columns, c: dst, ldc: outPlane)
        }
      }
      if pointwise {
        multiply(s.image, columns: outPlane, into: yb)
        return
      }
      let bandRows = Swift.max(1, Swift.min(outH, Tensor.columnBudget / Swift.max(1, k * outW)))
      let columns = UnsafeMutablePointer<Float>.allocate(capacity: k * bandRows * outW)
      defer { columns.deallocate() }
      var row0 = 0
      while row0 < outH {
        let rows = Swift.min(bandRows, outH - row0)
        let width = rows * outW
        // columns: [c·kh·kw, rows·outW]
        Threading.parallelFor(k, grain: 4) { range in
          for kk in range {
            let ci = kk / (kh * kw), ky = (kk / kw) % kh, kx = kk % kw
            let plane = s.image + ci * h * w
            let dst = columns + kk * width
            for r in 0..<rows {
              let iy = (row0 + r) * stride + ky - top
              let line = dst + r * outW
              if iy < 0 || iy >= h {
                line.update(repeating: 0, count: outW)
                continue
              }
              let src = plane + iy * w
              for ox in 0..<outW {
                let ix = ox * stride + kx - left
                line[ox] = (ix >= 0 && ix < w) ? src[ix] : 0
              }
            }
          }
        }
        multiply(columns, columns: width, into: yb + row0 * outW)
        row0 += rows
      }
    }
  }
}

/// One image's convolution as a packed-weight GEMM whose B operand is read from the image
/// (`CK_GEMM_SRC_CONV`; a pointwise convolution reads the image as B directly), split over the
/// threads along the output pixels when there are enough panels of them, else along the output
/// channels. Each C element's sum order is fixed by the kernel, so the split changes nothing.
enum PackedConvolution {
  /// Whether a 16-bit weight (`m × k`) is better packed whole before the products than block by
  /// block in each: a raw A is packed per 128-row block (CK_F32_MC), and the image's columns are
  /// packed again for each of those blocks, which costs more than one whole packing once the
  /// ranges hold more than a block's worth of pixels.
  static func packsWhole(m: Int, k: Int, pixels: Int) -> Bool {
    let chunks = Swift.min(Threading.threadCount, Swift.max(1, 2 * m * pixels * k / (1 << 21)))
    return m > 128 && pixels / chunks > 128
  }

  /// `packedA`, when given, is the weight packed for this call (it replaces `weight.halves`).
  static func run(
    weight: MatrixWeight, packedA: PackedF32Matrix? = nil, source: ck_conv_source, pointwise: Bool,
    into c: UnsafeMutablePointer<Float>
  ) {
    withExtendedLifetime((weight, packedA)) {
      if let packed = weight.packed {
        run(BF16GEMM.self, m: weight.shape[0], a: .packed(packed), source: source, pointwise: pointwise, into: c)
      } else {
        // fp32 products: the weight packed at load or for this call, or its 16-bit values.
        let a = (packedA ?? weight.packedFloat).map { F32GEMM.Operand.packed($0) } ?? weight.halves!.operand(transposed: false)
        run(F32GEMM.self, m: weight.shape[0], a: a, source: source, pointwise: pointwise, into: c)
      }
    }
  }

  /// The product with the `m`-row weight `a` (which must outlive the call) by `Element`'s kernel.
  static func run<Element>(
    _: PackedGEMM<Element>.Type, m: Int, a: PackedGEMM<Element>.Operand, source: ck_conv_source, pointwise: Bool,
    into c: UnsafeMutablePointer<Float>
  ) {
    let k = Int(source.channels) * Int(source.kernel_h) * Int(source.kernel_w)
    let n = Int(source.out_h) * Int(source.out_w)
    FLOPCounter.add(2 * m * n * k)
    let rowPanel = PackedGEMM<Element>.rowPanel, columnPanel = PackedGEMM<Element>.columnPanel
    let rowUnits = (m + rowPanel - 1) / rowPanel, columnUnits = (n + columnPanel - 1) / columnPanel
    let chunks = Swift.min(Threading.threadCount, Swift.max(1, 2 * m * n * k / (1 << 21)))
    // Pixel ranges are balanced to within a panel; with few panels, split the channels (each
    // range then packs all of B itself, a small cost next to its share of the product).
    let splitColumns = columnUnits >= 4 * chunks || columnUnits >= rowUnits
    let units = splitColumns ? columnUnits : rowUnits
    var source = source
    let image = source.image
    withUnsafePointer(to: &source) { src in
      let data = pointwise ? UnsafeRawPointer(image) : UnsafeRawPointer(src)
      let kind = pointwise ? CK_GEMM_SRC_F32 : CK_GEMM_SRC_CONV
      Threading.parallelFor(units, grain: Swift.max(1, units / chunks)) { range in
        let rows = splitColumns ? 0..<m : range.lowerBound * rowPanel..<Swift.min(m, range.upperBound * rowPanel)
        let columns = splitColumns
          ? range.lowerBound * columnPanel..<Swift.min(n, range.upperBound * columnPanel) : 0..<n
        var ca = a.cOperand
        var cb = ck_gemm_operand(packed: nil, data: data, kind: kind, ld: n, trans: 0)
        PackedGEMM<Element>.run(m: m, n: n, k: k, a: &ca, b: &cb, c: c, ldc: n, accumulate: false, rows: rows, columns: columns)
      }
    }
  }
}

/// A GroupNorm (per-(sample, channel) `x·scale + shift`, from `Tensor.groupNormCoefficients`)
/// and optional SiLU, applied by `conv2d(…, normalized:)` to its input as it reads it.
public struct ConvInputNorm: Sendable {
  /// `[N·C]` each.
  public var scale: [Float], shift: [Float]
  public var silu: Bool

  public init(scale: [Float], shift: [Float], silu: Bool) {
    (self.scale, self.shift, self.silu) = (scale, shift, silu)
  }

  /// The normalised tensor itself (for the paths that cannot fuse it).
  func applied(to x: Tensor) -> Tensor {
    x.channelAffine(scale: scale, shift: shift, activation: silu ? .silu : nil)
  }
}

extension ck_conv_source {
  /// One `channels × height × width` image convolved by a `kernel` (kh, kw) with `stride` and
  /// `padding` into `output` (outH, outW), read `upsample`× enlarged; no input normalisation.
  init(
    image: UnsafePointer<Float>, channels: Int, height: Int, width: Int, kernel: (Int, Int), stride: Int,
    padding: Conv2DPadding, output: (Int, Int), upsample: Int = 1
  ) {
    self.init(
      image: image, channels: Int32(channels), height: Int32(height), width: Int32(width),
      kernel_h: Int32(kernel.0), kernel_w: Int32(kernel.1), stride: Int32(stride),
      pad_top: Int32(padding.top), pad_left: Int32(padding.left), out_h: Int32(output.0), out_w: Int32(output.1),
      upsample: Int32(upsample), norm_scale: nil, norm_shift: nil, norm_silu: 0)
  }
}
