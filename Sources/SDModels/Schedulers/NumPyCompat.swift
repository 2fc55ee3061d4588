import Foundation

/// The few NumPy and torch primitives that diffusers' `set_timesteps` is written in, reproduced
/// with their exact rounding so that timesteps and sigmas match to the last bit.
enum NumPy {
  /// `np.linspace(start, stop, count)` in float64: `i·step + start`, the last value set to `stop`
  /// (`numpy/_core/function_base.py::linspace`).
  static func linspace(_ start: Double, _ stop: Double, _ count: Int) -> [Double] {
    guard count > 0 else { return [] }
    let div = count - 1
    guard div > 0 else { return [start] }
    let step = (stop - start) / Double(div)
    var y = (0..<count).map { Double($0) * step + start }
    y[count - 1] = stop
    return y
  }

  /// `np.arange(start, stop, step)` in float64: length `ceil((stop − start)/step)`, values
  /// `start + i·delta` with `delta = (start + step) − start` (`@NAME@_fill` in arraytypes.c.src).
  /// Its length can exceed the intended count by one (e.g. 62 values for 1000/61).
  static func arange(_ start: Double, _ stop: Double, _ step: Double) -> [Double] {
    let length = Int(((stop - start) / step).rounded(.up))
    guard length > 0 else { return [] }
    let delta = (start + step) - start
    return (0..<length).map { $0 == 0 ? start : start + Double($0) * delta }
  }

  /// `np.round` / `ndarray.round()`: round half to even.
  static func round(_ x: Double) -> Double { x.rounded(.toNearestOrEven) }

  /// `np.interp(x, arange(table.count), table)` for a table sampled at 0, 1, 2, …
  /// (`compiled_base.c::arr_interp`: `slope·(x − xⱼ) + yⱼ`, exact at knots, clamped outside).
  static func interp(_ x: Double, _ table: [Double]) -> Double {
    let last = table.count - 1
    if x >= Double(last) { return table[last] }
    if x < 0 { return table[0] }
    let j = Int(x.rounded(.down))
    if Double(j) == x { return table[j] }
    let slope = (table[j + 1] - table[j]) / (Double(j + 1) - Double(j))
    return slope * (x - Double(j)) + table[j]
  }

  /// `np.log` on a float32 array: NumPy's own AVX2/AVX512F kernel
  /// (`loops_exponent_log.dispatch.c.src::simd_log_FLOAT`, up to 3.8 ulp from the true value),
  /// a rational P5/Q5 approximation evaluated with fused multiply-adds.
  static func logFloat32(_ value: Float) -> Float {
    if value.isNaN { return .nan }
    if value < 0 { return -.nan }
    if value == 0 { return -.infinity }
    if value == .infinity { return .infinity }
    var x = value
    var exponent: Float
    if x < .leastNormalMagnitude {  // denormals: pre-scale by 2¹⁰⁰
      x *= Float(bitPattern: 0x7180_0000)
      exponent = Float(Int32(x.bitPattern >> 23) - 126) - 100
    } else {
      exponent = Float(Int32(x.bitPattern >> 23) - 126)
    }
    x = Float(bitPattern: (x.bitPattern & 0x7f_ffff) | (126 << 23))  // mantissa in [0.5, 1)
    if x <= sqrtHalf {
      x += x
      exponent -= 1
    }
    x -= 1
    var num = logP[4].addingProduct(logP[5], x)
    for k in stride(from: 3, through: 0, by: -1) { num = logP[k].addingProduct(num, x) }
    var den = logQ[4].addingProduct(logQ[5], x)
    for k in stride(from: 3, through: 0, by: -1) { den = logQ[k].addingProduct(den, x) }
    return (num / den).addingProduct(exponent, ln2)
  }

  // npy_simd_data.h (`NPY_COEFF_P*_LOGf`, `NPY_COEFF_Q*_LOGf`) and npy_math.h, float literals.
  private static let logP: [Float] = [
    0.000000000000000000000e+00, 9.999999999999998702752e-01, 2.112677543073053063722e+00,
    1.480000633576506585156e+00, 3.808837741388407920751e-01, 2.589979117907922693523e-02,
  ]
  private static let logQ: [Float] = [
    1.000000000000000000000e+00, 2.612677543073109236779e+00, 2.453006071784736363091e+00,
    9.864942958519418960339e-01, 1.546476374983906719538e-01, 5.875095403124574342950e-03,
  ]
  private static let sqrtHalf: Float = 0.707106781186547524400844362104849039
  private static let ln2: Float = 0.693147180559945309417232121458176568
}

/// torch float32 primitives as ATen's AVX2/AVX512 CPU kernels compute them.
enum Torch {
  /// `torch.linspace(start, end, count, dtype=torch.float32)` (`RangeFactoriesKernel.cpp`):
  /// the first half counts up from `start`, the second down from `end`, with a float step;
  /// GCC fuses `start + step·i` into one multiply-add in the AVX2 kernel.
  static func linspace(_ start: Double, _ end: Double, _ count: Int) -> [Float] {
    guard count > 1 else { return count == 1 ? [Float(start)] : [] }
    let a = Float(start), b = Float(end)
    let step = (b - a) / Float(count - 1)
    let halfway = count / 2
    return (0..<count).map { i in
      i < halfway ? a.addingProduct(step, Float(i)) : b.addingProduct(-step, Float(count - i - 1))
    }
  }

  /// `torch.cumprod` of float32 on CPU: the running product is kept in double (`acc_type`).
  static func cumprod(_ values: [Float]) -> [Float] {
    var acc = 1.0
    return values.map { v in
      acc *= Double(v)
      return Float(acc)
    }
  }
}
