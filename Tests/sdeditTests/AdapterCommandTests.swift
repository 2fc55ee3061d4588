import Foundation
import SDModels
import SDTensor
import SDTestSupport
import Testing

/// `--lora`, `--embedding`, `<lora:…>` tags and `--prompt-weighting` at the command line: bad files and
/// prompts end in one line naming the file and the problem, exit 1 and no output; `--lora-report`
/// lists the patched weights; the PNG parameters carry the adapters as A1111 writes them.
@Suite struct AdapterCommandTests {
  static let model = Fixtures.url("models/sd1-tiny").path
  static let xlModel = Fixtures.url("models/sdxl-tiny").path
  static let kohya = Fixtures.url("adapters/sd1_kohya_attn.safetensors")
  static let xlKohya = Fixtures.url("adapters/sdxl_kohya_sgm.safetensors")

  static func txt2img(_ extra: [String], prompt: String = "a cat", output: String, model: String = model) -> [String] {
    ["txt2img", "--model", model, "--prompt", prompt, "--width", "32", "--height", "32", "--steps", "2", "--seed", "3",
     "-o", output] + extra
  }

  /// A copy of `name`'s tensors with `edit` applied, written as a LoRA in `dir`.
  static func variant(of name: String, in dir: URL, as file: String, _ edit: (inout [String: Tensor]) -> Void) throws -> URL {
    let source = try SafeTensorsFile(url: Fixtures.url("adapters/\(name).safetensors"))
    var tensors: [String: Tensor] = [:]
    for key in source.names { tensors[key] = try source.tensor(key) }
    edit(&tensors)
    let url = dir.appendingPathComponent(file)
    try SafeTensorsWriter.write(tensors, metadata: source.metadata.isEmpty ? nil : source.metadata, dtype: .f16, to: url)
    return url
  }

  struct BadInput: Sendable, CustomStringConvertible {
    let name: String
    var model = AdapterCommandTests.model
    /// Makes the input in the folder and returns the extra arguments, the prompt and a text the error must contain.
    let make: @Sendable (URL) throws -> (args: [String], prompt: String, expected: [String])
    var description: String { name }
  }

  static let badInputs: [BadInput] = [
    BadInput(name: "truncated LoRA") { dir in
      let data = try Data(contentsOf: kohya)
      let url = dir.appendingPathComponent("cut.safetensors")
      try data.prefix(data.count / 2).write(to: url)
      return (["--lora", url.path], "a cat", [url.path, "past the end"])
    },
    BadInput(name: "LoRA with a wrong shape") { dir in
      let url = try variant(of: "sd1_kohya_attn", in: dir, as: "shape.safetensors") { t in
        let key = "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn1_to_q"
        let rank = t["\(key).lora_up.weight"]!.dim(1)
        t["\(key).lora_up.weight"] = Tensor(zeros: [48, rank])
      }
      return (["--lora", url.path], "a cat", [url.path, "mid_block.attentions.0.transformer_blocks.0.attn1.to_q.weight", "[48, 64]"])
    },
    BadInput(name: "LoRA with an unknown key") { dir in
      let url = try variant(of: "sd1_kohya_attn", in: dir, as: "unknown.safetensors") { t in
        t["lora_unet_mid_block_attentions_0_proj_in.lora_gate.weight"] = Tensor(zeros: [2, 2])
      }
      return (["--lora", url.path], "a cat", [url.path, "lora_unet_mid_block_attentions_0_proj_in.lora_gate.weight"])
    },
    BadInput(name: "LoRA for a layer the model lacks") { dir in
      let url = try variant(of: "sd1_kohya_attn", in: dir, as: "layer.safetensors") { t in
        t["lora_unet_down_blocks_7_attentions_0_proj_in.lora_down.weight"] = Tensor(zeros: [2, 32])
        t["lora_unet_down_blocks_7_attentions_0_proj_in.lora_up.weight"] = Tensor(zeros: [32, 2])
      }
      return (["--lora", url.path], "a cat", [url.path, "lora_unet_down_blocks_7_attentions_0_proj_in.lora_down.weight"])
    },
    BadInput(name: "LoRA without its up weight") { dir in
      let url = try variant(of: "sd1_kohya_attn", in: dir, as: "half.safetensors") { t in
        t["lora_te_text_model_encoder_layers_1_mlp_fc1.lora_up.weight"] = nil
      }
      return (["--lora", url.path], "a cat", [url.path, "lora_te_text_model_encoder_layers_1_mlp_fc1.lora_up.weight"])
    },
    BadInput(name: "LoHa (LyCORIS)") { dir in
      let url = dir.appendingPathComponent("loha.safetensors")
      try SafeTensorsWriter.write(["lora_unet_mid_block_attentions_0_proj_in.hada_w1_a": Tensor(zeros: [64, 2])], to: url)
      return (["--lora", url.path], "a cat", [url.path, "LoHa"])
    },
    BadInput(name: "SD 2 LoRA on an SD 1 model") { _ in
      let url = Fixtures.url("adapters/sd2_kohya.safetensors")
      return (["--lora", url.path], "a cat", [url.path])
    },
    BadInput(name: "pickled LoRA") { dir in
      let url = dir.appendingPathComponent("old.pt")
      try Data([0x80, 0x02, 0x7D, 0x71]).write(to: url)
      return (["--lora", url.path], "a cat", [url.path, "pickled"])
    },
    BadInput(name: "pickled embedding") { dir in
      let url = dir.appendingPathComponent("emb.bin")
      try Data([0x50, 0x4B, 0x03, 0x04]).write(to: url)
      return (["--embedding", url.path], "a cat", [url.path, "pickled"])
    },
    BadInput(name: "embedding for another text encoder width") { dir in
      let url = dir.appendingPathComponent("wide.safetensors")
      try SafeTensorsWriter.write(["emb_params": Tensor(zeros: [2, 48])], to: url)
      return (["--embedding", Fixtures.url("adapters/tiemb.safetensors").path, "--embedding", url.path], "a cat",
        [url.path, "48 wide", "uses 32"])
    },
    BadInput(name: "file with two embeddings") { dir in
      let url = dir.appendingPathComponent("two.safetensors")
      try SafeTensorsWriter.write(["a": Tensor(zeros: [32]), "b": Tensor(zeros: [32])], to: url)
      return (["--embedding", url.path], "a cat", [url.path, "found 2"])
    },
    BadInput(name: "embedding named like a word") { dir in
      let url = dir.appendingPathComponent("Cat.safetensors")
      try FileManager.default.copyItem(at: Fixtures.url("adapters/tiemb.safetensors"), to: url)
      return (["--embedding", url.path], "a cat", [url.path, "'Cat'"])
    },
    BadInput(name: "missing LoRA file") { dir in
      let url = dir.appendingPathComponent("none.safetensors")
      return (["--lora", url.path], "a cat", [url.path])
    },
    BadInput(name: "prompt tag without a LoRA folder") { _ in
      ([], "<lora:sd1_kohya_attn:0.5> a cat", ["--lora-dir"])
    },
    BadInput(name: "prompt tag naming no file") { _ in
      (["--lora-dir", Fixtures.url("adapters").path], "<lora:nothing_here:0.5> a cat", ["nothing_here.safetensors"])
    },
    BadInput(name: "prompt weight that is no number") { _ in
      (["--prompt-weighting", "a1111"], "a (cat:1.2.3)", ["1.2.3"])
    },
    BadInput(name: "SDXL embedding on an SD 1 model") { _ in
      let url = Fixtures.url("adapters/sdxlemb.safetensors")
      return (["--embedding", url.path], "a cat", [url.path, "an SDXL embedding (clip_l / clip_g), which needs an SDXL model"])
    },
    // SDXL models.
    BadInput(name: "SDXL LoRA with a wrong bigG (te2) shape", model: xlModel) { dir in
      let url = try variant(of: "sdxl_kohya_sgm", in: dir, as: "te2shape.safetensors") { t in
        let key = "lora_te2_text_model_encoder_layers_0_self_attn_q_proj"
        let rank = t["\(key).lora_up.weight"]!.dim(1)
        t["\(key).lora_up.weight"] = Tensor(zeros: [32, rank])
      }
      return (["--lora", url.path], "a cat",
        [url.path, "lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", "text_model.encoder.layers.0.self_attn.q_proj.weight", "[48, 48]"])
    },
    BadInput(name: "SDXL LoRA with an unknown key", model: xlModel) { dir in
      let url = try variant(of: "sdxl_kohya_sgm", in: dir, as: "unknown.safetensors") { t in
        t["lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_gate.weight"] = Tensor(zeros: [2, 2])
      }
      return (["--lora", url.path], "a cat", [url.path, "lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_gate.weight"])
    },
    BadInput(name: "SDXL LoRA for a bigG layer the model lacks", model: xlModel) { dir in
      let url = try variant(of: "sdxl_kohya_sgm", in: dir, as: "layer.safetensors") { t in
        t["lora_te2_text_model_encoder_layers_12_mlp_fc1.lora_down.weight"] = Tensor(zeros: [2, 48])
        t["lora_te2_text_model_encoder_layers_12_mlp_fc1.lora_up.weight"] = Tensor(zeros: [96, 2])
      }
      return (["--lora", url.path], "a cat", [url.path, "lora_te2_text_model_encoder_layers_12_mlp_fc1.lora_down.weight"])
    },
    BadInput(name: "SD 1 embedding on an SDXL model", model: xlModel) { _ in
      let url = Fixtures.url("adapters/tiemb.safetensors")
      return (["--embedding", url.path], "a cat", [url.path, "needs an SDXL embedding (clip_l and clip_g)"])
    },
    BadInput(name: "SDXL embedding with a clip_g of the wrong width", model: xlModel) { dir in
      let url = dir.appendingPathComponent("xlnarrowemb.safetensors")
      try SafeTensorsWriter.write(["clip_l": Tensor(zeros: [2, 32]), "clip_g": Tensor(zeros: [2, 32])], to: url)
      return (["--embedding", url.path], "a cat", [url.path, "32 wide", "uses 48"])
    },
    BadInput(name: "SDXL embedding without clip_g", model: xlModel) { dir in
      let url = dir.appendingPathComponent("xlhalfemb.safetensors")
      try SafeTensorsWriter.write(["clip_l": Tensor(zeros: [2, 32]), "other": Tensor(zeros: [2, 48])], to: url)
      return (["--embedding", url.path], "a cat", [url.path, "exactly clip_l and clip_g"])
    },
  ]

  @Test(arguments: badInputs)
  func badInputFailsInOneLine(_ bad: BadInput) throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let outDir = dir.appendingPathComponent("out")
    try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
    let (args, prompt, expected) = try bad.make(dir)
    let result = try CLIRunner.run(
      Self.txt2img(args, prompt: prompt, output: outDir.appendingPathComponent("o.png").path, model: bad.model))
    #expect(result.status == 1, "\(bad): status \(result.status): \(result.stderr)")
    let lines = result.stderr.split(separator: "\n")
    #expect(lines.count == 1, "\(bad): \(result.stderr)")
    for text in expected { #expect(result.stderr.contains(text), "\(bad): '\(text)' not in: \(result.stderr)") }
    #expect(try FileManager.default.contentsOfDirectory(atPath: outDir.path).isEmpty)
  }

  @Test func loraReportListsEveryPatchedWeight() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("o.png").path
    let result = try CLIRunner.run(Self.txt2img(
      ["--lora", Self.kohya.path + ":0.5", "--lora", Fixtures.url("adapters/sd1_locon.safetensors").path,
       "--embedding", Fixtures.url("adapters/timulti.safetensors").path, "--lora-report"], output: out))
    #expect(result.status == 0, "\(result.stderr)")
    let text = String(decoding: result.stdout, as: UTF8.self)
    let lines = text.split(separator: "\n")
    let kohyaModules = try LoRAFile(url: Self.kohya).modules.count
    let loconModules = try LoRAFile(url: Fixtures.url("adapters/sd1_locon.safetensors")).modules.count
    #expect(lines.count == 2 + kohyaModules + loconModules + 1, "\(text)")
    #expect(lines.first?.contains("kohya LoRA, scale 0.5, \(kohyaModules) weights") == true, "\(text)")
    #expect(text.contains("UNet down_blocks.0.resnets.0.conv1.weight [32, 32, 3, 3]: conv 3×3"), "\(text)")
    #expect(text.contains("trigger 'timulti', 3 vector(s)"), "\(text)")
    #expect(!FileManager.default.fileExists(atPath: out))
  }

  static func json(_ run: String, kind: String = "lora/sd1-tiny") throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Fixtures.data("reference/\(kind)/\(run).json")) as! [String: Any]
  }

  /// The hashes come from the generator (Python hashlib over the same files).
  @Test func pngParametersCarryAdapters() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("o.png").path
    let loraHash = (try Self.json("kohya_scale1")["loras"] as! [[String: Any]])[0]["addnet_hash12"] as! String
    let tiHash = (try Self.json("ti_single")["embeddings"] as! [[String: Any]])[0]["sha256_12"] as! String
    let result = try CLIRunner.run(Self.txt2img(
      ["--lora", Self.kohya.path + ":0.6", "--embedding", Fixtures.url("adapters/tiemb.safetensors").path,
       "--embedding", Fixtures.url("adapters/timulti.safetensors").path, "--lora-dir", Fixtures.url("adapters").path],
      prompt: "a tiemb cat <lora:sd1_peft_attn:0.3>", output: out))
    #expect(result.status == 0, "\(result.stderr)")
    let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self)
    #expect(text.contains("a tiemb cat <lora:sd1_peft_attn:0.3> <lora:sd1_kohya_attn:0.6>\n"), "\(text)")
    #expect(text.contains("Lora hashes: \"sd1_kohya_attn: \(loraHash), sd1_peft_attn: "), "\(text)")
    // timulti is loaded but not used by the prompt: A1111 lists only the embeddings a prompt uses.
    #expect(text.contains("TI hashes: \"tiemb: \(tiHash)\""), "\(text)")
    #expect(!text.contains("timulti:"), "\(text)")
  }

  /// SDXL: the same parameters, and `--lora-report` naming the bigG (te2) weights.
  @Test func xlParametersAndReportCarryAdapters() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("o.png").path
    let kind = "sdxl_adapters/sdxl-tiny"
    let loraHash = (try Self.json("kohya_sgm_scale1", kind: kind)["loras"] as! [[String: Any]])[0]["addnet_hash12"] as! String
    let tiHash = (try Self.json("ti_clip_l_clip_g", kind: kind)["embeddings"] as! [[String: Any]])[0]["sha256_12"] as! String
    let adapters = ["--lora", Self.xlKohya.path + ":0.6", "--embedding", Fixtures.url("adapters/sdxlemb.safetensors").path]
    let result = try CLIRunner.run(Self.txt2img(adapters, prompt: "a sdxlemb cat", output: out, model: Self.xlModel))
    #expect(result.status == 0, "\(result.stderr)")
    let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self)
    #expect(text.contains("a sdxlemb cat <lora:sdxl_kohya_sgm:0.6>\n"), "\(text)")
    #expect(text.contains("Lora hashes: \"sdxl_kohya_sgm: \(loraHash)\""), "\(text)")
    #expect(text.contains("TI hashes: \"sdxlemb: \(tiHash)\""), "\(text)")

    let report = try CLIRunner.run(Self.txt2img(adapters + ["--lora-report"], output: out + ".2", model: Self.xlModel))
    #expect(report.status == 0, "\(report.stderr)")
    let lines = String(decoding: report.stdout, as: UTF8.self)
    let file = try LoRAFile(url: Self.xlKohya)
    let te2 = file.modules.filter { $0.name.hasPrefix("lora_te2_") }.count
    #expect(te2 > 0 && lines.contains("\(te2) in the second text encoder (SDXL)"), "\(lines)")
    #expect(lines.contains("UNet down_blocks.1.attentions.0.transformer_blocks.1.attn2.to_k.weight"), "\(lines)")
    #expect(lines.contains("← lora_unet_input_blocks_4_1_transformer_blocks_1_attn2_to_k"), "\(lines)")
    #expect(lines.contains("trigger 'sdxlemb', 2 vector(s)"), "\(lines)")
  }
}
