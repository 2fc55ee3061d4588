/// How the packed GEMMs (`BF16GEMM`, `F32GEMM`) split `C[m × n]` over the threads, and the
/// checks on a range a caller computes itself. Ranges start at panel boundaries, so a packed
/// operand's panels are never cut; each C element's sum runs in the same order whatever the
/// split, so results do not depend on it.
struct GEMMSplit {
  let m: Int, n: Int, rowPanel: Int, columnPanel: Int
  /// Ranges to make: at most the thread count, and one below ~2 MFLOP per thread, where the
  /// dispatch costs more than it saves.
  let chunks: Int
  /// Split along C's rows (else along its columns): along the dimension of the unpacked operand
  /// when exactly one operand is packed (each thread then packs only its own slice), unless
  /// that dimension is too short to share; along the larger of m and n otherwise.
  let splitRows: Bool

  init(m: Int, n: Int, k: Int, aPacked: Bool, bPacked: Bool, rowPanel: Int, columnPanel: Int) {
    (self.m, self.n, self.rowPanel, self.columnPanel) = (m, n, rowPanel, columnPanel)
    chunks = Swift.min(Threading.threadCount, Swift.max(1, 2 * m * n * Swift.max(k, 1) / (1 << 21)))
    let rowUnits = (m + rowPanel - 1) / rowPanel, columnUnits = (n + columnPanel - 1) / columnPanel
    switch (aPacked, bPacked) {
    case (false, true): splitRows = rowUnits >= 2 * chunks || rowUnits >= columnUnits
    case (true, false): splitRows = !(columnUnits >= 2 * chunks || columnUnits >= rowUnits)
    default: splitRows = m >= n
    }
  }

  /// Runs `body(rows, columns)` for each range, in parallel.
  func forEachRange(_ body: (_ rows: Range<Int>, _ columns: Range<Int>) -> Void) {
    let panel = splitRows ? rowPanel : columnPanel
    let length = splitRows ? m : n
    let units = (length + panel - 1) / panel
    Threading.parallelFor(units, grain: Swift.max(1, units / chunks)) { range in
      let part = range.lowerBound * panel..<Swift.min(length, range.upperBound * panel)
      if splitRows { body(part, 0..<n) } else { body(0..<m, part) }
    }
  }

  /// The preconditions of a product restricted to `rows × columns` (programmer errors).
  static func checkRange(
    _ name: String, m: Int, n: Int, rows: Range<Int>, columns: Range<Int>, aPacked: Bool, bPacked: Bool,
    rowPanel: Int, columnPanel: Int
  ) {
    precondition(rows.lowerBound >= 0 && rows.upperBound <= m, "\(name): rows \(rows) outside 0..<\(m)")
    precondition(columns.lowerBound >= 0 && columns.upperBound <= n, "\(name): columns \(columns) outside 0..<\(n)")
    precondition(!aPacked || rows.lowerBound % rowPanel == 0, "\(name): packed A needs rows starting at a multiple of \(rowPanel)")
    precondition(
      !bPacked || columns.lowerBound % columnPanel == 0, "\(name): packed B needs columns starting at a multiple of \(columnPanel)")
  }
}
