import Foundation
import SDTensor
import SDTestSupport
import Testing

@testable import SDModels

@Suite struct WeightScopeTests {
  static let fc1Key = "text_model.encoder.layers.0.mlp.fc1.weight"

  func store() -> WeightStore {
    WeightStore(tensors: [
      Self.fc1Key: Tensor(zeros: [8, 4]),
      "text_model.encoder.layers.0.mlp.fc1.bias": Tensor(zeros: [8]),
      "extra.unused": Tensor(zeros: [1]),
    ])
  }

  @Test func keysAreDottedPaths() {
    let w = WeightScope(store())
    let mlp = w("text_model")("encoder")("layers")(0)("mlp")
    #expect(mlp.prefix == "text_model.encoder.layers.0.mlp")
    #expect(mlp("fc1").key("weight") == Self.fc1Key)
    #expect(w.key("x") == "x")
    #expect(mlp("fc1").contains("weight") && !mlp("fc1").contains("nope"))
    #expect(mlp("fc1").shape(of: "weight") == [8, 4])
  }

  @Test func missingTensorCarriesFullKey() throws {
    let w = WeightScope(store())("text_model")("encoder")("layers")(0)("mlp")("fc2")
    #expect(throws: CheckpointError.missingTensor(key: "text_model.encoder.layers.0.mlp.fc2.weight", file: "in-memory weights")) {
      try w.tensor("weight", shape: [4, 8])
    }
    #expect(try w.optionalTensor("weight", shape: [4, 8]) == nil)
  }

  @Test func shapeMismatchCarriesKeyAndBothShapes() throws {
    let s = store()
    let w = WeightScope(s)("text_model.encoder.layers")(0)("mlp.fc1")
    #expect(throws: CheckpointError.shapeMismatch(key: Self.fc1Key, expected: [4, 8], found: [8, 4], file: "in-memory weights")) {
      try w.tensor("weight", shape: [4, 8])
    }
    // A wrong shape is an error even for optional tensors; the key is not claimed.
    #expect(throws: CheckpointError.self) { try w.optionalTensor("weight", shape: [8]) }
    #expect(s.claimedKeys.isEmpty)
    let message = CheckpointError.shapeMismatch(key: Self.fc1Key, expected: [4, 8], found: [8, 4], file: "f").description
    #expect(message.contains(Self.fc1Key) && message.contains("[4, 8]") && message.contains("[8, 4]"))
  }

  @Test func claimsAreRecorded() throws {
    let s = store()
    let w = WeightScope(s)("text_model.encoder.layers.0.mlp.fc1")
    _ = try w.tensor("weight", shape: [8, 4])
    _ = try w.optionalTensor("bias", shape: [8])
    #expect(s.claimedKeys == [Self.fc1Key.replacingOccurrences(of: "weight", with: "bias"), Self.fc1Key])
    #expect(s.unclaimedKeys == ["extra.unused"])
  }

  @Test func storeOverFilesWithRename() throws {
    let dir = try Fixtures.temporaryDirectory("st")
    let url = dir.appendingPathComponent("ldm.safetensors")
    try SafeTensorsWriter.write(
      [
        ("cond_stage_model.transformer.final_layer_norm.weight", Tensor(shape: [2], data: [1, 2])),
        ("cond_stage_model.transformer.final_layer_norm.bias", Tensor(shape: [2], data: [3, 4])),
        ("model_ema.decay", Tensor(shape: [], data: [0.999])),
      ], dtype: .f16, to: url)
    let file = try SafeTensorsFile(url: url)
    let prefix = "cond_stage_model.transformer."
    let s = try WeightStore(files: [file]) { key in
      key.hasPrefix(prefix) ? "text_model." + key.dropFirst(prefix.count) : nil
    }
    #expect(s.keys == ["text_model.final_layer_norm.bias", "text_model.final_layer_norm.weight"])
    #expect(s.droppedKeys == ["model_ema.decay"])
    let ln = WeightScope(s)("text_model")("final_layer_norm")
    #expect(try ln.tensor("weight", shape: [2]).data == [1, 2])
    #expect(s.unclaimedKeys == ["text_model.final_layer_norm.bias"])
    #expect(throws: CheckpointError.missingTensor(key: "text_model.nope", file: url.path)) {
      try WeightScope(s)("text_model").tensor("nope", shape: [1])
    }

    // Two file keys renamed onto one canonical key are refused.
    #expect(throws: CheckpointError.self) { try WeightStore(files: [file]) { _ in "same" } }
    #expect(throws: CheckpointError.self) { try WeightStore(files: [file, file]) }
  }

  @Test func derivedTensorsSplitAFusedWeight() throws {
    let s = WeightStore(tensors: ["attn.in_proj_weight": Tensor(shape: [6, 2], data: (0..<12).map(Float.init))])
    for (i, name) in ["q", "k", "v"].enumerated() {
      s.register("attn.\(name)_proj.weight", shape: [2, 2], consuming: ["attn.in_proj_weight"]) {
        let fused = try s.tensor("attn.in_proj_weight")
        return Tensor(shape: [2, 2], data: Array(fused.data[(i * 4)..<(i * 4 + 4)]))
      }
    }
    #expect(s.unclaimedKeys == ["attn.in_proj_weight"])
    let k = try WeightScope(s)("attn")("k_proj").tensor("weight", shape: [2, 2])
    #expect(k.data == [4, 5, 6, 7])
    #expect(s.unclaimedKeys.isEmpty)
  }

  @Test func transformReshapesLazily() throws {
    let s = WeightStore(tensors: ["proj_in.weight": Tensor(shape: [3, 2, 1, 1], data: [1, 2, 3, 4, 5, 6])])
    s.transform("proj_in.weight", shape: [3, 2]) { $0.reshaped([3, 2]) }
    #expect(s.shape(of: "proj_in.weight") == [3, 2])
    #expect(s.unclaimedKeys == ["proj_in.weight"])
    #expect(try WeightScope(s).tensor("proj_in.weight", shape: [3, 2]).data == [1, 2, 3, 4, 5, 6])
    #expect(s.unclaimedKeys.isEmpty)

    // A derived tensor that does not produce its declared shape is reported, not trusted.
    s.register("bad", shape: [2]) { Tensor(zeros: [3]) }
    #expect(throws: CheckpointError.shapeMismatch(key: "bad", expected: [2], found: [3], file: "in-memory weights")) {
      try s.tensor("bad")
    }
    // Other errors from the loader's closure are wrapped with the key.
    struct Oops: Error {}
    s.register("worse", shape: [2]) { throw Oops() }
    #expect {
      try s.tensor("worse")
    } throws: { error in
      if case .derivationFailed("worse", let reason, _) = error as? CheckpointError { reason.contains("Oops") } else { false }
    }
  }
}
