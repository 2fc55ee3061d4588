import SDTensor

/// `torch.nn.Embedding`: a row lookup in a `[count, width]` table.
public struct Embedding: Sendable {
  public let table: Tensor

  public init(_ w: WeightScope, count: Int, width: Int) throws {
    table = try w.tensor("weight", shape: [count, width])
  }

  public var count: Int { table.shape[0] }
  public var width: Int { table.shape[1] }

  /// `ids` `[B][T]` → `[B, T, width]`. Ids must be in range (the tokenizer guarantees it).
  public func callAsFunction(_ ids: [[Int]]) -> Tensor {
    let t = ids.first?.count ?? 0
    precondition(ids.allSatisfy { $0.count == t }, "Embedding: ragged id batch")
    return Tensor(shape: [ids.count, t, width]) { out in
      table.withUnsafeBufferPointer { tab in
        for (b, row) in ids.enumerated() {
          for (i, id) in row.enumerated() {
            precondition(id >= 0 && id < count, "Embedding: id \(id) outside 0..<\(count)")
            (out.baseAddress! + (b * t + i) * width).update(from: tab.baseAddress! + id * width, count: width)
          }
        }
      }
    }
  }
}
