import Foundation
import SDTensor

/// The DPM-Solver++ updates (`dpm_solver_first_order_update`,
/// `multistep_dpm_solver_second_order_update`, `multistep_dpm_solver_third_order_update`), each
/// written with diffusers' float32 scalar expressions in the same order.
extension DPMSolverMultistepSampler {
  /// (α, σ, λ) at `stepSigmas[index]`.
  private func point(_ index: Int) -> (alpha: Float, sigma: Float, lambda: Float) {
    let s = Self.alphaSigma(stepSigmas[index])
    return (s.alpha, s.sigma, Self.lambda(s))
  }

  func firstOrderUpdate(_ x0: Tensor, sample: Tensor, step: Int, noise: Tensor?) -> Tensor {
    let t = point(step + 1), s = point(step)
    let h = t.lambda - s.lambda
    switch algorithm {
    case .dpmSolverPP:
      let a = t.sigma / s.sigma, b = t.alpha * (Foundation.exp(-h) - 1)
      return Elementwise.zip(sample, x0) { x, d in a * x - b * d }
    case .sdeDPMSolverPP:
      let e2 = Foundation.exp(-2 * h)
      let a = t.sigma / s.sigma * Foundation.exp(-h), b = t.alpha * (1 - e2)
      let c = t.sigma * (1 - e2).squareRoot()
      return Elementwise.zip(sample, x0, noise!) { x, d, z in a * x + b * d + c * z }
    }
  }

  func secondOrderUpdate(sample: Tensor, step: Int, noise: Tensor?) -> Tensor {
    let t = point(step + 1), s0 = point(step), s1 = point(step - 1)
    let m0 = modelOutputs[modelOutputs.count - 1], m1 = modelOutputs[modelOutputs.count - 2]
    let h = t.lambda - s0.lambda, h0 = s0.lambda - s1.lambda
    let r0 = h0 / h
    let inverseR0 = 1 / r0
    let d1 = Elementwise.zip(m0, m1) { a, b in inverseR0 * (a - b) }
    switch algorithm {
    case .dpmSolverPP:
      let a = t.sigma / s0.sigma, b = t.alpha * (Foundation.exp(-h) - 1)
      switch solverType {
      case .midpoint:
        let c = 0.5 * (t.alpha * (Foundation.exp(-h) - 1))
        return Elementwise.zip(sample, m0, d1) { x, d0, d1 in a * x - b * d0 - c * d1 }
      case .heun:
        let c = t.alpha * ((Foundation.exp(-h) - 1) / h + 1)
        return Elementwise.zip(sample, m0, d1) { x, d0, d1 in a * x - b * d0 + c * d1 }
      }
    case .sdeDPMSolverPP:
      let e2 = Foundation.exp(-2 * h)
      let a = t.sigma / s0.sigma * Foundation.exp(-h), b = t.alpha * (1 - e2)
      let c: Float
      switch solverType {
      case .midpoint: c = 0.5 * (t.alpha * (1 - e2))
      case .heun: c = t.alpha * ((1 - e2) / (-2 * h) + 1)
      }
      let n = t.sigma * (1 - e2).squareRoot()
      return Elementwise.zip(sample, m0, d1, noise!) { x, d0, d1, z in a * x + b * d0 + c * d1 + n * z }
    }
  }

  func thirdOrderUpdate(sample: Tensor, step: Int, noise: Tensor?) -> Tensor {
    let t = point(step + 1), s0 = point(step), s1 = point(step - 1), s2 = point(step - 2)
    let k = modelOutputs.count
    let m0 = modelOutputs[k - 1], m1 = modelOutputs[k - 2], m2 = modelOutputs[k - 3]
    let h = t.lambda - s0.lambda, h0 = s0.lambda - s1.lambda, h1 = s1.lambda - s2.lambda
    let r0 = h0 / h, r1 = h1 / h
    let inverseR0 = 1 / r0, inverseR1 = 1 / r1
    let d10 = Elementwise.zip(m0, m1) { a, b in inverseR0 * (a - b) }
    let d11 = Elementwise.zip(m1, m2) { a, b in inverseR1 * (a - b) }
    let weight = r0 / (r0 + r1), inverseSum = 1 / (r0 + r1)
    let d1 = Elementwise.zip(d10, d11) { a, b in a + weight * (a - b) }
    let d2 = Elementwise.zip(d10, d11) { a, b in inverseSum * (a - b) }
    switch algorithm {
    case .dpmSolverPP:
      let e = Foundation.exp(-h)
      let a = t.sigma / s0.sigma, b = t.alpha * (e - 1)
      let c = t.alpha * ((e - 1) / h + 1)
      let d = t.alpha * ((e - 1 + h) / (h * h) - 0.5)
      return Elementwise.zip(Elementwise.zip(sample, m0) { x, d0 in a * x - b * d0 }, d1, d2) { p, d1, d2 in
        p + c * d1 - d * d2
      }
    case .sdeDPMSolverPP:
      let e2 = Foundation.exp(-2 * h)
      let a = t.sigma / s0.sigma * Foundation.exp(-h), b = t.alpha * (1 - e2)
      let c = t.alpha * ((1 - e2) / (-2 * h) + 1)
      let d = t.alpha * ((1 - e2 - 2 * h) / ((2 * h) * (2 * h)) - 0.5)
      let n = t.sigma * (1 - e2).squareRoot()
      let partial = Elementwise.zip(sample, m0, d1) { x, d0, d1 in a * x + b * d0 + c * d1 }
      return Elementwise.zip(partial, d2, noise!) { p, d2, z in p + d * d2 + n * z }
    }
  }
}
