import SDTensor

/// Element-wise combinations of equally shaped latents. Samplers write each diffusers update as
/// one closure whose float32 operations come in the same order as the torch expression, so the
/// rounding matches op for op (Swift does not fuse multiply-adds on its own).
enum Elementwise {
  static func map(_ a: Tensor, _ op: (Float) -> Float) -> Tensor {
    Tensor(shape: a.shape) { out in
      a.withUnsafeBufferPointer { x in
        for i in 0..<out.count { out[i] = op(x[i]) }
      }
    }
  }

  static func zip(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
    precondition(a.shape == b.shape, "sampler: shapes \(a.shape) and \(b.shape) differ")
    return Tensor(shape: a.shape) { out in
      a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
          for i in 0..<out.count { out[i] = op(x[i], y[i]) }
        }
      }
    }
  }

  static func zip(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ op: (Float, Float, Float) -> Float) -> Tensor {
    precondition(a.shape == b.shape && a.shape == c.shape, "sampler: shapes \(a.shape), \(b.shape), \(c.shape) differ")
    return Tensor(shape: a.shape) { out in
      a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
          c.withUnsafeBufferPointer { z in
            for i in 0..<out.count { out[i] = op(x[i], y[i], z[i]) }
          }
        }
      }
    }
  }

  static func zip(
    _ a: Tensor, _ b: Tensor, _ c: Tensor, _ d: Tensor, _ op: (Float, Float, Float, Float) -> Float
  ) -> Tensor {
    precondition(
      a.shape == b.shape && a.shape == c.shape && a.shape == d.shape,
      "sampler: shapes \(a.shape), \(b.shape), \(c.shape), \(d.shape) differ")
    return Tensor(shape: a.shape) { out in
      a.withUnsafeBufferPointer { w in
        b.withUnsafeBufferPointer { x in
          c.withUnsafeBufferPointer { y in
            d.withUnsafeBufferPointer { z in
              for i in 0..<out.count { out[i] = op(w[i], x[i], y[i], z[i]) }
            }
          }
        }
      }
    }
  }
}
