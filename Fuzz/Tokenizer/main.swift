// libFuzzer target: arbitrary bytes as a prompt (invalid UTF-8 repaired as Swift does), through
// the bundled CLIP tokenizer: plain, padded, chunked (long prompts) and the truncation warning.
import SDModels

private let tokenizer: CLIPTokenizer = {
  do { return try CLIPTokenizer.bundled() } catch { fatalError("fuzz setup: \(error)") }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let prompt = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  let ids = tokenizer.encode(prompt)
  precondition(ids.count <= tokenizer.maxLength, "encode gave \(ids.count) ids")
  precondition(ids.allSatisfy { (0..<tokenizer.vocabularySize).contains($0) }, "id out of the vocabulary")
  let padded = tokenizer.encodePadded(prompt)
  precondition(padded.ids.count == tokenizer.maxLength, "padded length \(padded.ids.count)")
  for chunk in tokenizer.encodeChunks(prompt) {
    precondition(chunk.count == tokenizer.maxLength, "chunk length \(chunk.count)")
  }
  _ = tokenizer.truncationWarning(for: prompt)
  _ = tokenizer.decode(ids)
  return 0
}
