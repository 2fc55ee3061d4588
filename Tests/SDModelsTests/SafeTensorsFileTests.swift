import Foundation
import SDTensor
import SDTestSupport
import Testing

@testable import SDModels

/// Reading files written by the Python safetensors library, and the writer → reader round trip.
@Suite struct SafeTensorsFileTests {
  /// `Tests/Fixtures/safetensors/small.json`, written by scripts/fixtures/make_safetensors_samples.py.
  struct Expected: Decodable {
    struct Entry: Decodable {
      var dtype: String
      var shape: [Int]
      var f32_bits: [UInt32]?
      var i64: [String]?
    }
    var metadata: [String: String]
    var tensors: [String: Entry]
  }

  @Test func readsPythonWrittenFileExactly() throws {
    let expected = try JSONDecoder().decode(Expected.self, from: Fixtures.data("safetensors/small.json"))
    let file = try SafeTensorsFile(url: Fixtures.url("safetensors/small.safetensors"))
    #expect(file.metadata == expected.metadata)
    #expect(file.names == expected.tensors.keys.sorted())

    for (name, entry) in expected.tensors {
      let info = try #require(file.info(name))
      #expect(info.dtype.rawValue == entry.dtype, "\(name)")
      #expect(info.shape == entry.shape, "\(name)")
      if let bits = entry.f32_bits {
        let tensor = try file.tensor(name)
        #expect(tensor.shape == entry.shape)
        #expect(tensor.data.map(\.bitPattern) == bits, "\(name): \(tensor)")
      }
      if let values = entry.i64 {
        #expect(throws: CheckpointError.unsupportedDType(tensor: name, dtype: "I64", path: file.url.path)) {
          try file.tensor(name)
        }
        let raw = try file.rawBytes(name)
        let decoded = (0..<values.count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        #expect(decoded.map(String.init) == values)
      }
    }
    #expect(throws: CheckpointError.missingTensor(key: "nope", file: file.url.path)) { try file.tensor("nope") }
    #expect(file.info("nope") == nil)
  }

  @Test func unsupportedDTypeMessageNamesTensorAndType() throws {
    let file = try SafeTensorsFile(url: Fixtures.url("safetensors/small.safetensors"))
    do {
      _ = try file.tensor("i64.ids")
      Issue.record("expected unsupportedDType")
    } catch {
      #expect(error.description.contains("i64.ids") && error.description.contains("I64"))
    }
  }

  static let sample: [(String, Tensor)] = [
    ("b.weight", Tensor(shape: [2, 3], data: [1, -2.5, 3.25, 0, -0.0, 1e-3])),
    ("a.bias", Tensor(shape: [3], data: [65504, -1e-5, 0.333333])),
    ("scalar", Tensor(shape: [], data: [42])),
    ("empty", Tensor(shape: [0, 5], data: [])),
  ]

  @Test(arguments: [SafeTensorsDType.f32, .f16, .bf16])
  func roundTrip(dtype: SafeTensorsDType) throws {
    let url = try Fixtures.temporaryDirectory("st").appendingPathComponent("rt.safetensors")
    let metadata = ["format": "pt", "quote\"key": "line\nbreak \u{1} ü"]
    try SafeTensorsWriter.write(Self.sample, metadata: metadata, dtype: dtype, to: url)
    let file = try SafeTensorsFile(url: url)
    #expect(file.metadata == metadata)
    #expect(file.names == ["a.bias", "b.weight", "empty", "scalar"])

    for (name, original) in Self.sample {
      #expect(file.info(name)?.dtype == dtype)
      let read = try file.tensor(name)
      #expect(read.shape == original.shape)
      // The expected values narrow with the same rounding (round to nearest even).
      let expected = Self.narrowed(original.data, dtype)
      #expect(read.data.map(\.bitPattern) == expected.map(\.bitPattern), "\(name) as \(dtype)")
    }

    // Header: padded with spaces to a multiple of 8; no temporary file left behind.
    let bytes = try [UInt8](Data(contentsOf: url))
    let headerLength = Int(bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
    #expect(headerLength % 8 == 0)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
    #expect(leftovers == ["rt.safetensors"])
  }

  static func narrowed(_ values: [Float], _ dtype: SafeTensorsDType) -> [Float] {
    guard dtype != .f32, !values.isEmpty else { return values }
    var half = [UInt16](repeating: 0, count: values.count)
    var out = [Float](repeating: 0, count: values.count)
    if dtype == .f16 {
      HalfConversion.floatToFloat16(values, &half, count: values.count)
      HalfConversion.float16ToFloat(half, &out, count: values.count)
    } else {
      HalfConversion.floatToBFloat16(values, &half, count: values.count)
      HalfConversion.bfloat16ToFloat(half, &out, count: values.count)
    }
    return out
  }

  /// The writer's header matches the Python library's layout byte for byte on the same tensors.
  @Test func writerMatchesPythonLayout() throws {
    let url = try Fixtures.temporaryDirectory("st").appendingPathComponent("dict.safetensors")
    let tensors = ["x": Tensor(shape: [2], data: [1, 2]), "w": Tensor(shape: [1, 1], data: [3])]
    try SafeTensorsWriter.write(tensors, to: url)
    let bytes = try [UInt8](Data(contentsOf: url))
    // The bytes `safetensors.torch.save({"x": …, "w": …})` produces (0.8; dict input sorted by name).
    let json = #"{"w":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
    #expect(bytes.count == 8 + 112 + 12)
    #expect(String(decoding: bytes[8..<(8 + 112)], as: UTF8.self) == json + "  ")
  }

  @Test func writerRefusesDuplicatesAndNonFloatTypes() throws {
    let url = try Fixtures.temporaryDirectory("st").appendingPathComponent("bad.safetensors")
    let t = Tensor(shape: [1], data: [1])
    #expect(throws: CheckpointError.duplicateTensor(name: "w", path: url.path)) {
      try SafeTensorsWriter.write([("w", t), ("w", t)], to: url)
    }
    #expect(throws: CheckpointError.self) { try SafeTensorsWriter.write([("w", t)], dtype: .i64, to: url) }
    #expect(!FileManager.default.fileExists(atPath: url.path))
    // A folder that does not exist: a clear error, no crash.
    let nowhere = url.deletingLastPathComponent().appendingPathComponent("no/such/dir/x.safetensors")
    #expect(throws: CheckpointError.self) { try SafeTensorsWriter.write([("w", t)], to: nowhere) }
  }

  /// A tensor at an odd byte offset (legal, unusual) still converts correctly.
  @Test func unalignedHalfTensor() throws {
    let header = "{\"pad\":\(STBytes.entry("U8", [1], 0, 1)),\"h\":\(STBytes.entry("F16", [2], 1, 5))}"
    // 1.0 = 0x3C00, -2.0 = 0xC000 (little-endian)
    let file = try STBytes.open(STBytes.make(header: header, data: [7, 0x00, 0x3C, 0x00, 0xC0]))
    #expect(try file.tensor("h").data == [1, -2])
    #expect(Array(try file.rawBytes("pad")) == [7])
  }
}
