import Foundation

/// A random source that reproduces PyTorch's CPU generator bit for bit:
/// `torch.Generator("cpu").manual_seed(seed)` followed by any sequence of `torch.randn` /
/// `torch.rand` float32 draws on it (diffusers' `randn_tensor` for initial latents, then the
/// ancestral or DDIM-η noise of each step, all from the same generator).
///
/// This implementation matches (torch 2.13, ATen):
/// - `aten/src/ATen/core/MT19937RNGEngine.h`: mt19937 seeded with the low 32 bits of the seed
///   (`init_with_uint32`), tempered 32-bit outputs; `CPUGeneratorImpl::random64` joins two
///   outputs as `(first << 32) | second`.
/// - `core/TransformationHelper.h::uniform_real`: a float uniform is `(u32 & 0xFFFFFF) · 2⁻²⁴`,
///   a double uniform `(u64 & (2⁵³−1)) · 2⁻⁵³`.
/// - `native/cpu/DistributionTemplates.h::normal_kernel`: for 16 or more elements, fill the whole
///   buffer with float uniforms, then Box–Muller in blocks of 16 (`u1 = 1 − data[j]`,
///   `u2 = data[j+8]`, cos → `data[j]`, sin → `data[j+8]`); when `count % 16 != 0` the last 16
///   outputs are recomputed from 16 fresh uniforms. Below 16 elements each value comes from
///   `at::normal_distribution<double>` (log1p/sin/cos in double), which caches its second
///   sample in the generator for the next scalar draw.
///
/// torch's float Box–Muller kernel depends on the CPU: x86-64 builds with AVX2 (AVX512 reuses
/// the AVX2 kernel) evaluate avx_mathfun's `log256_ps`/`sincos256_ps` polynomials, compiled by
/// GCC with multiply-adds fused; `ATEN_CPU_CAPABILITY=default` and aarch64 builds (Apple silicon)
/// call the C library's `logf`/`sinf`/`cosf`. `NormalKernel` selects which one to reproduce; the
/// second depends on the platform's libm, so it is exact only against torch on the same libc.
public struct TorchRandom: Sendable {
  /// Which of torch's float Box–Muller kernels to reproduce (draws of ≥ 16 elements).
  public enum NormalKernel: String, Sendable, CaseIterable {
    /// x86-64 with AVX2 or AVX512 (the usual Linux/Windows desktop and server case).
    case avx2
    /// `ATEN_CPU_CAPABILITY=default`, aarch64 (Apple silicon) and other non-AVX2 builds.
    case scalar
  }

  private static let stateSize = 624
  private static let shift = 397

  /// The seed as given (torch keeps all 64 bits, but only the low 32 seed the engine).
  public let seed: UInt64
  public let normalKernel: NormalKernel
  private var state: [UInt32]
  private var left: Int
  private var next: Int
  /// `CPUGeneratorImpl::next_double_normal_sample_`: the cached sine half of a scalar draw.
  private var cachedNormal: Double?

  /// Equivalent to `torch.Generator("cpu").manual_seed(seed)`.
  public init(seed: UInt64, normalKernel: NormalKernel = .avx2) {
    self.seed = seed
    self.normalKernel = normalKernel
    var s = [UInt32](repeating: 0, count: Self.stateSize)
    s[0] = UInt32(truncatingIfNeeded: seed)
    for j in 1..<Self.stateSize {
      s[j] = 1_812_433_253 &* (s[j - 1] ^ (s[j - 1] >> 30)) &+ UInt32(j)
    }
    state = s
    left = 1
    next = 0
    cachedNormal = nil
  }

  // MARK: - Raw bits

  /// One tempered mt19937 output (`CPUGeneratorImpl::random`).
  public mutating func nextUInt32() -> UInt32 {
    left -= 1
    if left == 0 { regenerate() }
    var y = state[next]
    next += 1
    y ^= y >> 11
    y ^= (y << 7) & 0x9d2c_5680
    y ^= (y << 15) & 0xefc6_0000
    y ^= y >> 18
    return y
  }

  /// Two outputs joined high-then-low (`CPUGeneratorImpl::random64`).
  public mutating func nextUInt64() -> UInt64 {
    let high = UInt64(nextUInt32())
    let low = UInt64(nextUInt32())
    return (high << 32) | low
  }

  private mutating func regenerate() {
    let n = Self.stateSize, m = Self.shift
    state.withUnsafeMutableBufferPointer { s in
      @inline(__always) func twist(_ u: UInt32, _ v: UInt32) -> UInt32 {
        let mixed = (u & 0x8000_0000) | (v & 0x7fff_ffff)
        return (mixed >> 1) ^ ((v & 1) != 0 ? 0x9908_b0df : 0)
      }
      for j in 0..<(n - m) { s[j] = s[j + m] ^ twist(s[j], s[j + 1]) }
      for j in (n - m)..<(n - 1) { s[j] = s[j + m - n] ^ twist(s[j], s[j + 1]) }
      s[n - 1] = s[m - 1] ^ twist(s[n - 1], s[0])
    }
    left = n
    next = 0
  }

  // MARK: - Uniform

  /// A float uniform in [0, 1) with 24 random bits (`uniform_real_distribution<float>(0, 1)`).
  @inline(__always)
  private mutating func uniformFloat() -> Float {
    Float(nextUInt32() & 0xff_ffff) * 0x1p-24
  }

  /// A double uniform in [0, 1) with 53 random bits (`uniform_real_distribution<double>(0, 1)`).
  @inline(__always)
  private mutating func uniformDouble() -> Double {
    Double(nextUInt64() & ((1 << 53) - 1)) * 0x1p-53
  }

  /// `count` values of `torch.rand(count, generator=g)` (float32, [0, 1)).
  public mutating func uniform(count: Int) -> [Float] {
    precondition(count >= 0, "TorchRandom.uniform: negative count \(count)")
    return (0..<count).map { _ in uniformFloat() }
  }

  /// `torch.rand(shape, generator=g, dtype=torch.float32)`.
  public mutating func rand(_ shape: [Int]) -> Tensor {
    Tensor(shape: shape, data: uniform(count: shape.reduce(1, *)))
  }

  // MARK: - Normal

  /// `torch.randn(shape, generator=g, dtype=torch.float32)`.
  public mutating func randn(_ shape: [Int]) -> Tensor {
    Tensor(shape: shape, data: normal(count: shape.reduce(1, *)))
  }

  /// `count` values of `torch.randn(count, generator=g)` (float32, mean 0, std 1).
  public mutating func normal(count: Int) -> [Float] {
    precondition(count >= 0, "TorchRandom.normal: negative count \(count)")
    if count < 16 { return (0..<count).map { _ in Float(scalarNormal()) } }
    var data = [Float](repeating: 0, count: count)
    data.withUnsafeMutableBufferPointer { d in
      for i in 0..<count { d[i] = uniformFloat() }
      var i = 0
      while i + 16 <= count {
        boxMuller16(d.baseAddress! + i)
        i += 16
      }
      if count % 16 != 0 {
        let tail = d.baseAddress! + (count - 16)
        for j in 0..<16 { tail[j] = uniformFloat() }
        boxMuller16(tail)
      }
    }
    return data
  }

  /// `at::normal_distribution<double>(0, 1)`: Box–Muller in double, caching the sine half.
  private mutating func scalarNormal() -> Double {
    if let cached = cachedNormal {
      cachedNormal = nil
      return cached
    }
    let u1 = uniformDouble()
    let u2 = uniformDouble()
    let r = (-2.0 * Foundation.log1p(-u2)).squareRoot()
    let theta = 2.0 * Double.pi * u1
    cachedNormal = r * Foundation.sin(theta)
    return r * Foundation.cos(theta)
  }

  /// Box–Muller on 16 uniforms in place: 8 pairs (data[j], data[j+8]).
  @inline(__always)
  private func boxMuller16(_ data: UnsafeMutablePointer<Float>) {
    // `2.0f * c10::pi<double>` is a double; the AVX2 kernel rounds it to float first.
    let twoPi = 2.0 * Double.pi
    for j in 0..<8 {
      let u1: Float = 1 - data[j]
      let u2 = data[j + 8]
      let radius: Float
      let sine: Float, cosine: Float
      switch normalKernel {
      case .avx2:
        radius = (-2 * AVXMath.log(u1)).squareRoot()
        (sine, cosine) = AVXMath.sincos(Float(twoPi) * u2)
      case .scalar:
        radius = (-2 * Foundation.log(u1)).squareRoot()
        let theta = Float(twoPi * Double(u2))
        (sine, cosine) = (Foundation.sin(theta), Foundation.cos(theta))
      }
      // `fma(n, std=1, mean=0)`: exact, except that it turns −0 into +0.
      data[j] = Float(0).addingProduct(radius * cosine, 1)
      data[j + 8] = Float(0).addingProduct(radius * sine, 1)
    }
  }
}

/// avx_mathfun's `log256_ps` and `sincos256_ps` (ATen `native/cpu/avx_mathfun.h`, after Julien
/// Pommier's sse_mathfun and Cephes), one lane at a time. torch's x86-64 wheels are built by GCC,
/// which fuses a multiply into the add or subtract that consumes it (`-ffp-contract=fast`); the
/// `addingProduct` calls below sit exactly where those fused multiply-adds are. Constants are
/// written as the C source does: a double literal rounded to float.
private enum AVXMath {
  private static let sqrtHalf = Float(0.707106781186547524 as Double)
  private static let logP: [Float] = [
    7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1, 1.4249322787E-1,
    -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1,
  ].map { (v: Double) in Float(v) }
  private static let logQ1 = Float(-2.12194440e-4 as Double)
  private static let logQ2 = Float(0.693359375 as Double)

  /// Natural log for 0 < x ≤ 1 (the Box–Muller radius argument).
  static func log(_ input: Float) -> Float {
    var x = Swift.max(input, Float(bitPattern: 0x0080_0000))  // cut off denormals
    let exponent = Int32(bitPattern: x.bitPattern >> 23) - 0x7f
    x = Float(bitPattern: (x.bitPattern & ~0x7f80_0000) | Float(0.5).bitPattern)  // mantissa in [0.5, 1)
    var e = Float(exponent) + 1
    let below = x < sqrtHalf
    let tmp: Float = below ? x : 0
    x -= 1
    e -= below ? 1 : 0
    x += tmp
    let z = x * x
    var y = logP[0]
    for k in 1..<logP.count { y = logP[k].addingProduct(y, x) }
    y *= x
    y = (e * logQ1).addingProduct(y, z)  // fma(y, z, e·q1)
    y = y.addingProduct(-z, 0.5)  // y − z·0.5, fused
    return (x + y).addingProduct(e, logQ2)  // (x + y) + e·q2, fused
  }

  private static let fourOverPi = Float(1.27323954473516 as Double)
  private static let dp: [Float] = [-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8]
    .map { (v: Double) in Float(v) }
  private static let cosP: [Float] = [2.443315711809948E-005, -1.388731625493765E-003, 4.166664568298827E-002]
    .map { (v: Double) in Float(v) }
  private static let sinP: [Float] = [-1.9515295891E-4, 8.3321608736E-3, -1.6666654611E-1]
    .map { (v: Double) in Float(v) }

  /// (sin x, cos x) for 0 ≤ x < 2π (the Box–Muller angle).
  static func sincos(_ input: Float) -> (sin: Float, cos: Float) {
    let signSin = input.bitPattern & 0x8000_0000
    var x = Float(bitPattern: input.bitPattern & 0x7fff_ffff)
    var j = Int32(x * fourOverPi)  // truncation, as _mm256_cvttps_epi32
    j = (j + 1) & ~1
    let y = Float(j)
    let sinSign = signSin ^ UInt32(bitPattern: (j & 4) << 29)
    let cosSign = UInt32(bitPattern: (~(j - 2) & 4) << 29)
    let useSinPolynomialForSin = (j & 2) == 0
    // Extended-precision range reduction x − y·π/4, each step a fused multiply-add.
    for c in dp { x = x.addingProduct(y, c) }
    let z = x * x
    var yc = cosP[0]
    yc = cosP[1].addingProduct(yc, z)
    yc = cosP[2].addingProduct(yc, z)
    yc *= z
    yc = (-(z * 0.5)).addingProduct(yc, z)  // yc·z − z·0.5, the first product fused
    yc += 1
    var ys = sinP[0]
    ys = sinP[1].addingProduct(ys, z)
    ys = sinP[2].addingProduct(ys, z)
    ys *= z
    ys = x.addingProduct(ys, x)
    let (s, c) = useSinPolynomialForSin ? (ys, yc) : (yc, ys)
    return (Float(bitPattern: s.bitPattern ^ sinSign), Float(bitPattern: c.bitPattern ^ cosSign))
  }
}
