import Foundation
import SDImage
import SDModels
import SDTensor
import SDTestSupport
import Testing

/// LoRAs, textual-inversion embeddings and `--prompt-weighting a1111` end to end through the CLI,
/// against diffusers on the tiny models (scripts/fixtures/lora.py: `load_lora_weights` + `fuse_lora`,
/// `load_textual_inversion`, `prompt_embeds` from the A1111 reference): PSNR ≥ 40 dB. The generator
/// checked that every wrong merge it could think of lands below 30 dB from these images.
@Suite struct LoRAParityTests {
  static func runs() -> [PipelineParityTests.Run] { PipelineParityTests.runs("lora") }

  /// The reference's own command line plus its adapter arguments (`{adapters}` → the fixture folder).
  static func arguments(_ run: PipelineParityTests.Run, output: String, singleFile: Bool = false) -> [String] {
    let kind = run.json["kind"] as! String
    let asPipeline = PipelineParityTests.Run(kind: kind, model: run.model, name: run.name, json: run.json)
    let adapters = Fixtures.url("adapters").path
    let extra = (run.json["cli"] as! [String]).map { $0.replacingOccurrences(of: "{adapters}", with: adapters) }
    return PipelineParityTests.arguments(asPipeline, output: output, singleFile: singleFile) + extra
  }

  @Test func fixturesArePresent() {
    let names = Set(Self.runs().map(\.name))
    for name in ["peft_scale1", "peft_scale0.6", "kohya_scale1", "kohya_tag_scale0.6", "stacked_kohya1_peft0.6",
      "locon_scale1", "locon_sgm_names_a1111", "kohya_alphas_a1111", "ti_single", "ti_multi_and_single", "a1111_weights"]
    {
      #expect(names.contains(name), "missing reference lora/…/\(name)")
    }
  }

  @Test(arguments: runs())
  func matchesDiffusers(run: PipelineParityTests.Run) throws {
    try check(run, singleFile: false)
  }

  /// The same adapters on the single-file (LDM-named) checkpoints of the same weights.
  @Test(arguments: runs().filter { ["kohya_scale1", "locon_scale1", "locon_sgm_names_a1111", "peft_scale1", "kohya_scale0.7",
    "ti_multi", "ti_multi_and_single"].contains($0.name) })
  func singleFileMatchesDiffusers(run: PipelineParityTests.Run) throws {
    try check(run, singleFile: true)
  }

  func check(_ run: PipelineParityTests.Run, singleFile: Bool) throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out.png").path
    let result = try CLIRunner.run(Self.arguments(run, output: out, singleFile: singleFile))
    #expect(result.status == 0, "sdedit failed: \(result.stderr)")
    guard result.status == 0 else { return }
    let ours = try ImageFile.read(path: out).rgb()
    let reference = try SafeTensorsFile(url: Fixtures.url("reference/lora/\(run.model)/\(run.name).safetensors"))
    let image = try reference.tensor("image")
    #expect(ours.width == image.dim(1) && ours.height == image.dim(0))
    let psnr = Compare.psnr(ours.pixels, PipelineParityTests.quantize(image))
    #expect(psnr >= 40, "\(run)\(singleFile ? " (single file)" : ""): PSNR \(psnr) dB")
  }
}
