// libFuzzer target: arbitrary bytes decoded as an image (JPEG seeds; ImageCodec detects the
// format from the bytes). Decoding must succeed or throw ImageError, never crash, and a decoded
// image must have a consistent size within the documented limits.
import Foundation
import SDImage

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJPEG(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let bytes = Data(bytes: data, count: size)
  guard let decoded = try? ImageCodec.decodeWithMetadata(bytes, name: "fuzz.jpg") else { return 0 }
  let image = decoded.image
  precondition(image.width >= 1 && image.height >= 1, "empty image decoded")
  precondition(image.width <= ImageCodec.maxSide && image.height <= ImageCodec.maxSide, "side over the limit")
  precondition(image.width * image.height <= ImageCodec.maxPixels, "pixel count over the limit")
  precondition([1, 2, 3, 4].contains(image.channels), "channel count \(image.channels)")
  precondition(image.pixels.count == image.width * image.height * image.channels, "pixel buffer size")
  for (key, value) in decoded.text { _ = key.count + value.count }
  return 0
}
