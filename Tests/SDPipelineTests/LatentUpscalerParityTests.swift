import Foundation
import SDModels
import SDPipeline
import SDTensor
import SDTestSupport
import Testing

/// The x2 latent upscaler's K-diffusion UNet (Fourier time features, AdaGroupNorm resnets,
/// K attention blocks, `timestep_cond`) for one forward against diffusers, on the committed
/// tiny model (scripts/fixtures/components.py): max |err| ≤ 1e-4 × max(1, max |ref|).
@Suite struct LatentUpscalerParityTests {
  static func model() throws -> ModelBundle {
    try ModelBundle.load(Fixtures.url("models/latent-upscaler-tiny").path, options: .init(needsEncoder: true))
  }

  func expectClose(_ ours: Tensor, _ ref: Tensor, _ what: String) {
    #expect(ours.shape == ref.shape, "\(what): shape \(ours.shape) vs \(ref.shape)")
    guard ours.shape == ref.shape else { return }
    let err = Compare.maxAbsDiff(ours.data, ref.data)
    let tolerance = Compare.componentTolerance(ref.data)
    #expect(err <= tolerance, "\(what): max error \(err) > \(tolerance)")
  }

  @Test func configIsKDiffusion() throws {
    let config = try Self.model().unet.config
    #expect(config.isKDiffusion)
    #expect(config.timeEmbeddingType == .fourier)
    #expect(config.timeEmbedDim == 64 && config.timestepInputDim == 64)
    #expect(!config.hasOutputNorm && !config.hasMidBlock)
    #expect(config.activation == .gelu && config.timestepPostActivation == .gelu)
  }

  @Test func unetForward() throws {
    let model = try Self.model()
    #expect(model.unusedKeys.isEmpty, "unused: \(model.unusedKeys.prefix(5))")
    let ref = try SafeTensorsFile(url: Fixtures.url("reference/unet/latent-upscaler-tiny.safetensors"))
    let sample = try ref.tensor("sample"), context = try ref.tensor("encoder_hidden_states")
    let condition = try ref.tensor("timestep_cond")
    for i in 0..<2 {
      let t = try ref.tensor("timestep_\(i)").data
      let out = model.unet(sample, timesteps: t, context: context, timestepCondition: condition)
      expectClose(out, try ref.tensor("out_\(i)"), "latent-upscaler-tiny UNet t=\(t[0])")
    }
  }

  /// The latent upscaler conditions on `hidden_states[-1]` (before the final LayerNorm) and the pooled output.
  @Test func textStatesBeforeFinalNorm() throws {
    let model = try Self.model()
    let ref = try SafeTensorsFile(url: Fixtures.url("reference/text_encoder/sd1-tiny.safetensors"))
    let ids = try ref.tensor("input_ids")
    let rows = (0..<ids.dim(0)).map { b in (0..<ids.dim(1)).map { Int(ids.data[b * ids.dim(1) + $0]) } }
    let out = model.textEncoder(rows)
    expectClose(out.hiddenStates[out.hiddenStates.count - 1], try ref.tensor("hidden_states_last"), "hidden_states[-1]")
    expectClose(out.pooled, try ref.tensor("pooler_output"), "pooled")
  }

  /// A K-diffusion config refuses what its blocks cannot run.
  @Test func refusesBadKConfigs() throws {
    let url = Fixtures.url("models/latent-upscaler-tiny/unet/config.json")
    let base = try JSONConfig(url: url).values
    for (key, value) in [("mid_block_type", "UNetMidBlock2DCrossAttn" as Any), ("block_out_channels", [32, 32, 48, 100]), ("attention_head_dim", 24)] {
      var values = base
      values[key] = value
      #expect(throws: ConfigError.self, "\(key)") { _ = try UNetConfig(JSONConfig(values: values, source: "test")) }
    }
    var mixed = base
    mixed["down_block_types"] = ["DownBlock2D", "KCrossAttnDownBlock2D", "KCrossAttnDownBlock2D", "KCrossAttnDownBlock2D"]
    #expect(throws: ConfigError.self) { _ = try UNetConfig(JSONConfig(values: mixed, source: "test")) }
  }
}
