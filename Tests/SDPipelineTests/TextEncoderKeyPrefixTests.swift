import Foundation
import SDModels
@testable import SDPipeline
import SDTensor
import SDTestSupport
import Testing

/// transformers 5 saves a bare `CLIPTextModel` without the `text_model.` key prefix that older
/// versions (and every checkpoint on the Hub) use; transformers loads both, and so does sdedit.
@Suite struct TextEncoderKeyPrefixTests {
  @Test func unprefixedTextEncoderKeysLoad() throws {
    let source = Fixtures.url("models/sd1-tiny")
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let copy = dir.appendingPathComponent("sd1-unprefixed")
    try FileManager.default.copyItem(at: source, to: copy)
    let weights = copy.appendingPathComponent("text_encoder/model.safetensors")
    let file = try SafeTensorsFile(url: weights)
    let stripped = try file.names.map { name in
      (String(name.dropFirst(name.hasPrefix("text_model.") ? "text_model.".count : 0)), try file.tensor(name))
    }
    #expect(stripped.contains { $0.0 == "embeddings.token_embedding.weight" })
    try SafeTensorsWriter.write(stripped, to: weights)

    let ids = [[49406, 320, 1125, 539, 49407] + [Int](repeating: 49407, count: 72)]
    let original = try ModelBundle.load(source.path).textEncoder(ids).lastHiddenState
    let bundle = try ModelBundle.load(copy.path)
    #expect(bundle.textEncoder(ids).lastHiddenState.data == original.data)
    #expect(bundle.unusedKeys.filter { !$0.contains("position_ids") }.isEmpty, "\(bundle.unusedKeys)")
  }
}
