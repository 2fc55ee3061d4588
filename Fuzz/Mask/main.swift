// libFuzzer target: an inpainting mask file, loaded as `sdedit inpaint` loads it: decoded
// (PNG or JPEG), converted to luma and to a [1, 1, H, W] tensor in [0, 1].
import Foundation
import SDImage
import SDTensor

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMask(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let bytes = Data(bytes: data, count: size)
  guard let image = try? ImageCodec.decode(bytes, name: "fuzz-mask.png") else { return 0 }
  let mask = ImageTensor.maskTensor(from: image)
  precondition(mask.shape == [1, 1, image.height, image.width], "mask shape \(mask.shape)")
  mask.withUnsafeBufferPointer { values in
    for v in values { precondition(v >= 0 && v <= 1, "mask value \(v) outside [0, 1]") }
  }
  let rgb = ImageTensor.tensor(from: image)
  precondition(rgb.shape == [1, 3, image.height, image.width], "image shape \(rgb.shape)")
  return 0
}
