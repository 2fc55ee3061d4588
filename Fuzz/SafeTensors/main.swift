// libFuzzer target: arbitrary bytes as a .safetensors file (header length, JSON header, tensor
// table, data buffer). Every input must either open or throw a CheckpointError; a file that
// opens must keep its promises: sorted names, in-range byte ranges, and small tensors convert.
import SDModels

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  let file: SafeTensorsFile
  do {
    file = try SafeTensorsFile(bytes: bytes, name: "fuzz.safetensors")
  } catch {
    _ = error.description  // every error must render
    return 0
  }
  precondition(file.names == file.names.sorted(), "names not sorted")
  let dataLength = file.fileSize
  for name in file.names {
    guard let info = file.info(name) else { preconditionFailure("listed tensor \(name) has no info") }
    precondition(info.byteRange.lowerBound >= 0 && info.byteRange.upperBound <= dataLength, "range out of file")
    let raw = try? file.rawBytes(name)
    precondition(raw?.count == info.byteRange.count, "raw byte count")
    guard info.elementCount <= 1 << 16 else { continue }
    do {
      let tensor = try file.tensor(name)
      precondition(tensor.shape == info.shape, "shape changed on load")
    } catch {
      _ = error.description
    }
  }
  return 0
}
