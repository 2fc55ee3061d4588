import Foundation
import SDModels
import SDTensor
import SDTestSupport
import Testing

/// LoRA files, their key map and merge, and textual-inversion tokens, on the generator's adapter files
/// (scripts/fixtures/lora.py) and on small files written here.
@Suite struct LoRAFileTests {
  static func adapter(_ name: String) throws -> LoRAFile {
    try LoRAFile(url: Fixtures.url("adapters/\(name).safetensors"))
  }

  /// Writes `tensors` (and `metadata`) to a temporary LoRA file and reads it back.
  static func lora(_ tensors: [String: Tensor], metadata: [String: String]? = nil) throws -> LoRAFile {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("test.safetensors")
    try SafeTensorsWriter.write(tensors, metadata: metadata, to: url)
    return try LoRAFile(url: url)  // the mapping outlives the file's directory entry
  }

  static func ramp(_ shape: [Int], _ offset: Float = 0) -> Tensor {
    Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { Float($0 % 7) * 0.25 - 0.5 + offset })
  }

  @Test func kohyaFileReadsAlphaAndRank() throws {
    let file = try Self.adapter("sd1_kohya_attn")
    #expect(file.formats == [.kohya])
    #expect(file.modules.count == 50)
    for module in file.modules {
      #expect(module.alpha == 3)
      #expect(module.alphaScale == 3 / Float(module.rank))
      #expect([2, 4].contains(module.rank))
    }
  }

  @Test func peftFileTakesAlphaFromMetadata() throws {
    let file = try Self.adapter("sd1_peft_attn")
    #expect(file.formats == [.peft])
    #expect(file.modules.allSatisfy { $0.alpha == 8 && $0.rank == 4 && $0.alphaScale == 2 })
  }

  @Test func peftMetadataPatternsAndRSLoRA() throws {
    let tensors: [String: Tensor] = [
      "unet.a.to_q.lora_A.weight": Self.ramp([4, 8]), "unet.a.to_q.lora_B.weight": Self.ramp([8, 4]),
      "unet.b.to_k.lora_A.weight": Self.ramp([4, 8]), "unet.b.to_k.lora_B.weight": Self.ramp([8, 4]),
    ]
    let metadata = #"{"unet.lora_alpha": 8, "unet.r": 4, "unet.alpha_pattern": {"b.to_k": 2}, "unet.use_rslora": true}"#
    let file = try Self.lora(tensors, metadata: ["lora_adapter_metadata": metadata])
    let scales = Dictionary(uniqueKeysWithValues: file.modules.map { ($0.name, $0.alphaScale) })
    #expect(scales["unet.a.to_q"] == Float(8) / Float(4).squareRoot())  // alpha / √r
    #expect(scales["unet.b.to_k"] == Float(2) / Float(4).squareRoot())
    let plain = try Self.lora(tensors)
    #expect(plain.modules.allSatisfy { $0.alphaScale == 1 && $0.alpha == nil })  // diffusers: alpha = rank
    let dora = #"{"unet.lora_alpha": 8, "unet.use_dora": true}"#
    #expect(throws: AdapterError.self) { try Self.lora(tensors, metadata: ["lora_adapter_metadata": dora]) }
  }

  @Test func loconModulesAreConvolutions() throws {
    let file = try Self.adapter("sd1_locon")
    let conv = try #require(file.modules.first { $0.name == "lora_unet_down_blocks_0_resnets_0_conv1" })
    #expect(conv.downShape.count == 4 && conv.downShape[2] == 3 && conv.upShape.suffix(2) == [1, 1])
    #expect(conv.deltaShape == [32, 32, 3, 3])
    let product = try file.product(conv)
    #expect(product.shape == [32, 32 * 9])
  }

  @Test func productIsUpTimesDown() throws {
    let down = Self.ramp([2, 3]), up = Self.ramp([4, 2], 0.1)
    let file = try Self.lora(["lora_unet_x.lora_down.weight": down, "lora_unet_x.lora_up.weight": up])
    let product = try file.product(file.modules[0])
    var expected = [Float](repeating: 0, count: 12)
    for o in 0..<4 { for i in 0..<3 { for r in 0..<2 { expected[o * 3 + i] += up.data[o * 2 + r] * down.data[r * 3 + i] } } }
    #expect(Compare.maxAbsDiff(product.data, expected) < 1e-6)
  }

  @Test func malformedFilesAreRefusedByName() throws {
    do {
      _ = try Self.lora(["lora_unet_a.lora_gate.weight": Self.ramp([2, 2])])
      Issue.record("unknown key accepted")
    } catch let error as AdapterError {
      guard case .unknownKey(_, let key) = error else { throw error }
      #expect(key == "lora_unet_a.lora_gate.weight")
    }
    for (suffix, format) in [(".hada_w1_a", "LoHa"), (".lokr_w1", "LoKr"), (".dora_scale", "DoRA"), (".lora_mid.weight", "Tucker")] {
      do {
        _ = try Self.lora(["lora_unet_a\(suffix)": Self.ramp([2, 2])])
        Issue.record("\(suffix) accepted")
      } catch let error as AdapterError {
        #expect(error.description.contains(format), "\(error)")
      }
    }
    #expect(throws: AdapterError.self) {
      _ = try Self.lora(["lora_unet_a.lora_down.weight": Self.ramp([2, 4]), "lora_unet_a.lora_up.weight": Self.ramp([4, 3])])
    }
    #expect(throws: AdapterError.self) {
      _ = try Self.lora(["lora_unet_a.lora_down.weight": Self.ramp([2, 4]), "lora_unet_a.lora_up.weight": Self.ramp([4, 2]),
        "lora_unet_a.alpha": Self.ramp([2])])
    }
    #expect(throws: AdapterError.self) { _ = try Self.lora(["lora_unet_a.lora_up.weight": Self.ramp([4, 2])]) }
  }

  // MARK: - Key map and merge

  static func store() -> WeightStore {
    WeightStore(tensors: [
      "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight": ramp([4, 3]),
      "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0.weight": ramp([4, 4]),
      "down_blocks.0.attentions.0.proj_in.weight": ramp([4, 4, 1, 1]),
    ])
  }

  static func textStore() -> WeightStore {
    WeightStore(tensors: ["text_model.encoder.layers.0.self_attn.q_proj.weight": ramp([3, 3])])
  }

  @Test func namesOfEveryFormatReachTheirLayer() throws {
    let map = LoRAKeyMap(stores: [.unet: Self.store(), .textEncoder: Self.textStore()])
    let cases: [(String, String, LoRATarget)] = [
      ("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q", ".lora_down.weight",
       LoRATarget(component: .unet, key: "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight")),
      ("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0", ".lora_A.weight",
       LoRATarget(component: .unet, key: "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0.weight")),
      ("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_out", "_lora.down.weight",
       LoRATarget(component: .unet, key: "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0.weight")),
      ("lora_te_text_model_encoder_layers_0_self_attn_q_proj", ".lora_down.weight",
       LoRATarget(component: .textEncoder, key: "text_model.encoder.layers.0.self_attn.q_proj.weight")),
      ("text_encoder.encoder.layers.0.self_attn.q_proj", ".lora_A.weight",
       LoRATarget(component: .textEncoder, key: "text_model.encoder.layers.0.self_attn.q_proj.weight")),
      ("text_encoder.text_model.encoder.layers.0.self_attn.q_proj", ".lora_linear_layer.down.weight",
       LoRATarget(component: .textEncoder, key: "text_model.encoder.layers.0.self_attn.q_proj.weight")),
    ]
    for (module, suffix, target) in cases {
      let up = suffix.replacingOccurrences(of: "down", with: "up").replacingOccurrences(of: "lora_A", with: "lora_B")
      let inFeatures = target.component == .unet && target.key.contains("to_q") ? 3 : (target.component == .unet ? 4 : 3)
      let outFeatures = target.component == .unet ? 4 : 3
      let file = try Self.lora([module + suffix: Self.ramp([2, inFeatures]), module + up: Self.ramp([outFeatures, 2])])
      #expect(try map.target(of: file.modules[0], path: file.path) == target, "\(module)")
    }
  }

  @Test func targetsTheModelLacksAreErrors() throws {
    let map = LoRAKeyMap(stores: [.unet: Self.store(), .textEncoder: Self.textStore()])
    let sdxl = try Self.lora(["lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight": Self.ramp([2, 3]),
      "lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight": Self.ramp([3, 2])])
    #expect(throws: AdapterError.missingComponent(path: sdxl.path,
      key: "lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", component: "second text encoder (SDXL)")) {
      try map.target(of: sdxl.modules[0], path: sdxl.path)
    }
    let missing = try Self.lora(["lora_unet_mid_block_x.lora_down.weight": Self.ramp([2, 3]),
      "lora_unet_mid_block_x.lora_up.weight": Self.ramp([3, 2])])
    #expect(throws: AdapterError.self) { try map.target(of: missing.modules[0], path: missing.path) }
  }

  @Test func mergeAddsScaledProductsInOrder() throws {
    let store = Self.store()
    let stores: [AdapterComponent: WeightStore] = [.unet: store]
    let map = LoRAKeyMap(stores: stores)
    let key = "down_blocks.0.attentions.0.proj_in.weight"
    let module = "lora_unet_down_blocks_0_attentions_0_proj_in"
    let a = try Self.lora([module + ".lora_down.weight": Self.ramp([2, 4, 1, 1]), module + ".lora_up.weight": Self.ramp([4, 2, 1, 1], 0.2),
      module + ".alpha": Tensor(shape: [], data: [1])])
    let b = try Self.lora(["unet.down_blocks.0.attentions.0.proj_in.lora_A.weight": Self.ramp([1, 4]),
      "unet.down_blocks.0.attentions.0.proj_in.lora_B.weight": Self.ramp([4, 1], -0.3)])
    let base = try store.tensor(key)
    _ = try LoRAMerge.apply(a, scale: 0.6, map: map, stores: stores)
    _ = try LoRAMerge.apply(b, scale: 2, map: map, stores: stores)
    let merged = try store.tensor(key)
    #expect(merged.shape == [4, 4, 1, 1])
    let expected = zip(zip(base.data, try a.product(a.modules[0]).data), try b.product(b.modules[0]).data).map { pair, db in
      pair.0 + 0.6 * 0.5 * pair.1 + 2 * 1 * db
    }
    #expect(Compare.maxAbsDiff(merged.data, expected) < 1e-6)
  }

  @Test func mergeRefusesShapesThatDoNotFit() throws {
    let stores: [AdapterComponent: WeightStore] = [.unet: Self.store()]
    let module = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q"
    let file = try Self.lora([module + ".lora_down.weight": Self.ramp([2, 4]), module + ".lora_up.weight": Self.ramp([4, 2])])
    #expect(throws: AdapterError.self) { try LoRAMerge.apply(file, scale: 1, map: LoRAKeyMap(stores: stores), stores: stores) }
  }

  // MARK: - Hashes

  static func referenceJSON(_ model: String, _ run: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Fixtures.data("reference/lora/\(model)/\(run).json")) as! [String: Any]
  }

  /// The generator's Python `hashlib` digests of the same files (A1111's addnet hash for LoRAs, the
  /// whole-file hash for embeddings).
  @Test func hashesMatchPython() throws {
    for run in ["kohya_scale1", "peft_scale1", "locon_scale1", "kohya_alphas_a1111"] {
      for lora in try Self.referenceJSON("sd1-tiny", run)["loras"] as! [[String: Any]] {
        let path = Fixtures.url(lora["file"] as! String).path
        #expect(try SHA256.safetensorsData(path).prefix(12) == lora["addnet_hash12"] as! String, "\(path)")
      }
    }
    for (model, run) in [("sd1-tiny", "ti_multi_and_single"), ("sd2-tiny", "ti_multi")] {
      for embedding in try Self.referenceJSON(model, run)["embeddings"] as! [[String: Any]] {
        let path = Fixtures.url(embedding["file"] as! String).path
        #expect(try SHA256.file(path).prefix(12) == embedding["sha256_12"] as! String, "\(path)")
      }
    }
  }

  @Test func hashDoesNotDependOnHowBytesArrive() {
    let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
    var whole = SHA256()
    whole.update(Data(bytes))
    let reference = whole.finalizeHex()
    for split in [1, 55, 56, 63, 64, 65, 127, 999] {
      var parts = SHA256()
      parts.update(Data(bytes[..<split]))
      parts.update(Data(bytes[split...]))
      #expect(parts.finalizeHex() == reference, "split at \(split)")
    }
  }

  // MARK: - Textual inversion

  @Test func multiVectorTriggerExpands() throws {
    let tokenizer = try CLIPTokenizer(folder: Fixtures.url("models/sd1-tiny/tokenizer"))
    let embedding = try TextualInversion(url: Fixtures.url("adapters/timulti.safetensors"))
    #expect(embedding.tokens == ["timulti", "timulti_1", "timulti_2"])
    let (adapted, ids) = tokenizer.adding(tokens: [embedding.tokens])
    let base = tokenizer.vocabularySize
    #expect(ids == [[base, base + 1, base + 2]])
    let a = tokenizer.tokenize("a")[0]
    #expect(adapted.tokenize("a timulti") == [a, base, base + 1, base + 2])
    #expect(adapted.tokenize("a TIMULTI") == [a, base, base + 1, base + 2])
    #expect(adapted.tokenize("timulti_2") == [base + 2])
    #expect(adapted.decode([base]) == "timulti")
    #expect(tokenizer.isToken("Cat") && !tokenizer.isToken("timulti") && adapted.isToken("timulti"))
  }

  @Test func embeddingsExtendTheTable() throws {
    let embedding = try TextualInversion(url: Fixtures.url("adapters/timulti.safetensors"))
    let tokenizer = try CLIPTokenizer(folder: Fixtures.url("models/sd1-tiny/tokenizer"))
    let count = tokenizer.vocabularySize
    let table = Tensor(shape: [count, 32], data: (0..<(count * 32)).map { Float($0 % 11) })
    let store = WeightStore(tensors: [TextualInversion.tableKey: table])
    let config = CLIPTextConfig(encoder: .init(width: 32, layers: 1, heads: 4, intermediateSize: 8, activation: .quickGELU, layerNormEps: 1e-5))
    let (_, adapted) = try TextualInversion.apply([embedding], tokenizer: tokenizer, config: config, store: store)
    #expect(adapted.vocabSize == count + 3)
    let extended = try store.tensor(TextualInversion.tableKey)
    #expect(extended.shape == [count + 3, 32])
    #expect(Array(extended.data.suffix(3 * 32)) == embedding.vectors.data)
    #expect(Array(extended.data.prefix(count * 32)) == table.data)
  }
}
