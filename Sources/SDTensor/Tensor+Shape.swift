/// Shape manipulation: permutation, concatenation, splitting, slicing. Each returns a new
/// contiguous tensor (sdedit has no strided views).
extension Tensor {
  /// Reorders dimensions: `permuted(0, 2, 1, 3)` turns `[B, T, H, D]` into `[B, H, T, D]`.
  public func permuted(_ order: Int...) -> Tensor { permuted(order) }

  public func permuted(_ order: [Int]) -> Tensor {
    precondition(order.count == rank && Set(order) == Set(0..<rank), "permuted: \(order) is not a permutation of \(shape)")
    if order == Array(0..<rank) { return self }
    let newShape = order.map { shape[$0] }
    var srcStrides = [Int](repeating: 1, count: rank)
    for i in stride(from: rank - 2, through: 0, by: -1) { srcStrides[i] = srcStrides[i + 1] * shape[i + 1] }
    let strides = order.map { srcStrides[$0] }  // source stride of each output dimension
    let inner = newShape[rank - 1], innerStride = strides[rank - 1]
    let outerCount = count / max(inner, 1)
    return Profiler.measure("permute") { Tensor(shape: newShape) { out in
      withUnsafeBufferPointer { src in
        Threading.parallelFor(outerCount, grain: 64) { range in
          var index = [Int](repeating: 0, count: rank - 1)
          for outer in range {
            // Decompose `outer` into the leading output coordinates.
            var rem = outer, offset = 0
            for d in stride(from: rank - 2, through: 0, by: -1) {
              index[d] = rem % newShape[d]
              rem /= newShape[d]
              offset += index[d] * strides[d]
            }
            let dst = out.baseAddress! + outer * inner
            for i in 0..<inner { dst[i] = src[offset + i * innerStride] }
          }
        }
      }
    } }
  }

  /// Swaps the last two dimensions.
  public func transposedLastTwo() -> Tensor {
    var order = Array(0..<rank)
    order.swapAt(rank - 1, rank - 2)
    return permuted(order)
  }

  /// Concatenates tensors along `axis`; all other dimensions must agree.
  public static func concat(_ parts: [Tensor], axis: Int) -> Tensor {
    precondition(!parts.isEmpty, "concat: no tensors")
    let first = parts[0]
    let axis = axis < 0 ? first.rank + axis : axis
    for p in parts {
      precondition(p.rank == first.rank, "concat: ranks differ")
      for d in 0..<first.rank where d != axis {
        precondition(p.shape[d] == first.shape[d], "concat: \(p.shape) vs \(first.shape) on axis \(axis)")
      }
    }
    var newShape = first.shape
    newShape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
    let outer = first.shape[..<axis].reduce(1, *)
    let inner = first.shape[(axis + 1)...].reduce(1, *)
    return Tensor(shape: newShape) { out in
      var offset = 0
      let rowLength = newShape[axis] * inner
      for p in parts {
        let block = p.shape[axis] * inner
        p.withUnsafeBufferPointer { src in
          for o in 0..<outer {
            (out.baseAddress! + o * rowLength + offset).update(from: src.baseAddress! + o * block, count: block)
          }
        }
        offset += block
      }
    }
  }

  /// The sub-range `range` of dimension `axis`.
  public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
    let axis = axis < 0 ? rank + axis : axis
    precondition(range.lowerBound >= 0 && range.upperBound <= shape[axis], "slice: \(range) outside \(shape[axis])")
    var newShape = shape
    newShape[axis] = range.count
    let outer = shape[..<axis].reduce(1, *)
    let inner = shape[(axis + 1)...].reduce(1, *)
    let rowLength = shape[axis] * inner
    let block = range.count * inner
    return Tensor(shape: newShape) { out in
      withUnsafeBufferPointer { src in
        for o in 0..<outer {
          (out.baseAddress! + o * block).update(
            from: src.baseAddress! + o * rowLength + range.lowerBound * inner, count: block)
        }
      }
    }
  }

  /// Splits dimension `axis` into consecutive parts of the given sizes.
  public func split(axis: Int, sizes: [Int]) -> [Tensor] {
    let axis = axis < 0 ? rank + axis : axis
    precondition(sizes.reduce(0, +) == shape[axis], "split: \(sizes) do not add up to \(shape[axis])")
    var start = 0
    return sizes.map { size in
      defer { start += size }
      return slice(axis: axis, start..<(start + size))
    }
  }

  /// Splits dimension `axis` into `parts` equal chunks (like `torch.chunk` with an exact division).
  public func chunked(_ parts: Int, axis: Int) -> [Tensor] {
    let axis = axis < 0 ? rank + axis : axis
    precondition(shape[axis] % parts == 0, "chunked: \(shape[axis]) is not divisible by \(parts)")
    return split(axis: axis, sizes: [Int](repeating: shape[axis] / parts, count: parts))
  }
}
