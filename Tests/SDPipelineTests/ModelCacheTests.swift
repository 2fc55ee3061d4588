import Foundation
import SDPipeline
import SDTensor
import SDTestSupport
import Testing

/// `ModelCache`: what `sdedit batch` relies on to load each model once.
@Suite struct ModelCacheTests {
  static let model = Fixtures.url("models/sd1-tiny").path

  @Test func sameKeyLoadsOnce() throws {
    let cache = ModelCache()
    let a = try cache.bundle(Self.model, options: .init(precision: .fp32))
    let b = try cache.bundle(Self.model + "/", options: .init(precision: .fp32))  // the same folder, spelled differently
    #expect(a === b)
    #expect(cache.loadCount == 1)
  }

  @Test func everyOptionIsPartOfTheKey() throws {
    let cache = ModelCache()
    let plain = try cache.bundle(Self.model, options: .init(precision: .fp32))
    let v = try cache.bundle(Self.model, options: .init(predictionType: "v_prediction", precision: .fp32))
    #expect(plain !== v)
    #expect(cache.loadCount == 2)
    #expect(try cache.bundle(Self.model, options: .init(predictionType: "v_prediction", precision: .fp32)) === v)
    #expect(cache.loadCount == 2)
  }

  @Test func bundleWithEncoderServesRequestsWithout() throws {
    let cache = ModelCache()
    let full = try cache.bundle(Self.model, options: .init(needsEncoder: true, precision: .fp32))
    #expect(try cache.bundle(Self.model, options: .init(needsEncoder: false, precision: .fp32)) === full)
    #expect(cache.loadCount == 1)
  }

  @Test func bundleWithEncoderReplacesOneWithout() throws {
    let cache = ModelCache(capacity: 1)
    let lesser = try cache.bundle(Self.model, options: .init(needsEncoder: false, precision: .fp32))
    let full = try cache.bundle(Self.model, options: .init(needsEncoder: true, precision: .fp32))
    #expect(lesser !== full)
    #expect(try cache.bundle(Self.model, options: .init(needsEncoder: false, precision: .fp32)) === full)
    #expect(cache.loadCount == 2)
  }

  @Test func leastRecentlyUsedIsDropped() throws {
    let cache = ModelCache(capacity: 2)
    var loads: [String] = []
    func get(_ name: String) throws -> String {
      try cache.value(kind: "test", path: "/models/\(name)", options: Precision.fp32) {
        loads.append(name)
        return name
      }
    }
    for name in ["a", "b", "a", "c", "a", "b"] { _ = try get(name) }
    // c evicts b (a was used more recently); the last b is a reload.
    #expect(loads == ["a", "b", "c", "b"])
    #expect(cache.loadCount == loads.count)
  }

  /// A load that finds nothing (a folder without a safety checker) is cached as nil, not redone,
  /// and not counted as a model load.
  @Test func nilResultsAreCached() throws {
    let cache = ModelCache()
    var calls = 0
    for _ in 0..<3 {
      let found: Int? = try cache.value(kind: "optional", path: "/x", options: 0) {
        calls += 1
        return nil
      }
      #expect(found == nil)
    }
    #expect(calls == 1)
    #expect(cache.loadCount == 0)
    let some: Int? = try cache.value(kind: "optional", path: "/y", options: 0) { 7 }
    #expect(some != nil)
    #expect(cache.loadCount == 1)
  }

  @Test func failedLoadsAreNotCached() throws {
    struct Failure: Error {}
    let cache = ModelCache()
    var calls = 0
    for _ in 0..<2 {
      #expect(throws: Failure.self) {
        _ = try cache.value(kind: "failing", path: "/f", options: 0) { () throws -> Int in
          calls += 1
          throw Failure()
        }
      }
    }
    #expect(calls == 2)
  }
}
