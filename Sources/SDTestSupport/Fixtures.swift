import Foundation
import SDTensor

/// Locates committed fixtures (Tests/Fixtures) and the repository root, independent of the
/// working directory the test runner was started in.
public enum Fixtures {
  /// The repository root (two levels above Sources/SDTestSupport).
  public static let root: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// `Tests/Fixtures/<relativePath>`.
  public static func url(_ relativePath: String) -> URL {
    root.appendingPathComponent("Tests/Fixtures").appendingPathComponent(relativePath)
  }

  public static func data(_ relativePath: String) throws -> Data {
    try Data(contentsOf: url(relativePath))
  }

  /// A fresh empty temporary folder for one test.
  public static func temporaryDirectory(_ name: String = "sdedit-test") throws -> URL {
    let dir = FileManager.default.temporaryDirectory
      .appendingPathComponent("\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
  }
}

/// Comparison metrics used by parity tests.
public enum Compare {
  /// Largest absolute element-wise difference; `.infinity` when the shapes differ.
  public static func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var m: Float = 0
    for i in a.indices {
      let d = abs(a[i] - b[i])
      if d.isNaN { return .infinity }
      m = max(m, d)
    }
    return m
  }

  public static func maxAbs(_ a: [Float]) -> Float { a.reduce(0) { max($0, abs($1)) } }

  /// DESIGN.md tolerance for one component forward: |err| ≤ 1e-4 × max(1, max|ref|).
  public static func componentTolerance(_ reference: [Float]) -> Float { 1e-4 * max(1, maxAbs(reference)) }

  /// Largest relative error |a−b| / max(|b|, floor).
  public static func maxRelDiff(_ a: [Float], _ b: [Float], floor: Float = 1e-6) -> Float {
    guard a.count == b.count else { return .infinity }
    var m: Float = 0
    for i in a.indices { m = max(m, abs(a[i] - b[i]) / max(abs(b[i]), floor)) }
    return m
  }

  /// PSNR in dB of two 8-bit images with identical layout.
  public static func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
    precondition(a.count == b.count && !a.isEmpty)
    var se: Double = 0
    for i in a.indices { let d = Double(a[i]) - Double(b[i]); se += d * d }
    let mse = se / Double(a.count)
    return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
  }
}
