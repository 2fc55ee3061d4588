import Foundation
import SDImage
import SDTestSupport
import Testing

/// Broken, oversized and unsupported files give the documented `ImageError`, never a crash.
@Suite struct DecodeErrorTests {
  @Test(arguments: ImageManifest.errorFiles)
  func givesExpectedError(file: String) throws {
    let entry = try #require(ImageManifest.entry(file))
    let data = try ImageFixtures.data(file)
    do throws(ImageError) {
      let image = try ImageCodec.decode(data, name: file)
      Issue.record("\(file): decoded to \(image), expected \(entry.error ?? "?")")
    } catch {
      #expect(kind(of: error) == entry.error, "\(file): \(error)")
      #expect(error.description.hasPrefix(file + ": "), "message names the file: \(error)")
      #expect(!error.description.contains("\n"))
    }
  }

  @Test func messagesReadWell() throws {
    func message(_ file: String, name: String) throws -> String {
      let data = try ImageFixtures.data(file)
      do throws(ImageError) {
        _ = try ImageCodec.decode(data, name: name)
        return "decoded"
      } catch { return error.description }
    }
    #expect(try message("truncated_idat.png", name: "photo.png") == "photo.png: truncated PNG data")
    #expect(try message("truncated_scan.jpg", name: "stdin") == "stdin: truncated JPEG data")
    #expect(
      try message("huge_header.png", name: "big.png")
        == "big.png: PNG image is 100000×100000 pixels; the limit is 16384 per side and 67108864 pixels")
    #expect(try message("cmyk.jpg", name: "scan.jpg").hasPrefix("scan.jpg: CMYK JPEG images are not supported"))
    #expect(try message("bad_crc.png", name: "x.png").hasPrefix("x.png: corrupt PNG data ("))
  }

  /// A real (baseline) JPEG whose size fields claim more than the limit, at every size boundary.
  @Test(arguments: [(16385, 8), (8, 16385), (16384, 16384 + 1), (8193, 8192)])
  func jpegSizeLimit(width: Int, height: Int) throws {
    var data = [UInt8](try ImageFixtures.data("baseline420.jpg"))
    let sof = try #require(zip(data.indices, data.dropFirst()).first { data[$0.0] == 0xFF && $0.1 == 0xC0 }?.0)
    data[sof + 5] = UInt8(height >> 8); data[sof + 6] = UInt8(height & 0xFF)
    data[sof + 7] = UInt8(width >> 8); data[sof + 8] = UInt8(width & 0xFF)
    #expect(throws: ImageError.tooLarge(name: "j", format: .jpeg, width: width, height: height)) {
      try ImageCodec.decode(Data(data), name: "j")
    }
  }

  /// Every prefix of a good file fails cleanly (or, past the image data, still decodes).
  @Test(arguments: ["rgba16_interlaced.png", "progressive.jpg", "baseline420.jpg", "palette8_trns.png"])
  func everyPrefixIsHandled(file: String) throws {
    let data = try ImageFixtures.data(file)
    let full = try ImageCodec.decode(data, name: file)
    for length in 0..<data.count {
      do throws(ImageError) {
        let image = try ImageCodec.decode(data.prefix(length), name: file)
        #expect(image == full, "\(file) cut to \(length) bytes decoded to different pixels")
      } catch {
        #expect(["truncated", "unknownFormat"].contains(kind(of: error)), "\(file)[..<\(length)]: \(error)")
      }
    }
  }

  /// Flipping bytes anywhere never crashes (deterministic pseudo-random mutations).
  @Test(arguments: ["rgb8.png", "text_chunks.png", "gray2.png", "baseline444.jpg", "progressive.jpg"])
  func mutationsNeverCrash(file: String) throws {
    let original = [UInt8](try ImageFixtures.data(file))
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> Int {
      state ^= state << 13; state ^= state >> 7; state ^= state << 17
      return Int(state % UInt64(Int32.max))
    }
    for _ in 0..<300 {
      var bytes = original
      for _ in 0..<(1 + next() % 4) { bytes[next() % bytes.count] = UInt8(next() % 256) }
      _ = try? ImageCodec.decode(Data(bytes), name: file)
    }
  }

  private func kind(of error: ImageError) -> String {
    switch error {
    case .unknownFormat: return "unknownFormat"
    case .truncated: return "truncated"
    case .corrupt: return "corrupt"
    case .tooLarge: return "tooLarge"
    case .unsupported: return "unsupported"
    case .cannotEncode: return "cannotEncode"
    case .outOfMemory: return "outOfMemory"
    }
  }
}
