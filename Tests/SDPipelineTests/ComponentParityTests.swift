import Foundation
import SDModels
import SDPipeline
import SDTensor
import SDTestSupport
import Testing

/// One forward of each component against diffusers/transformers on the committed tiny models
/// (scripts/fixtures/components.py). Tolerance (DESIGN.md): max |err| ≤ 1e-4 × max(1, max |ref|).
@Suite struct ComponentParityTests {
  static let folders = ["sd1-tiny", "sd2-tiny", "sd1-inpaint-tiny", "x4-upscaler-tiny"]
  static let singleFiles = ["sd1-tiny", "sd2-tiny", "sd1-inpaint-tiny"]

  static func bundle(_ name: String, singleFile: Bool) throws -> ModelBundle {
    let path = Fixtures.url("models/\(name)\(singleFile ? ".safetensors" : "")").path
    return try ModelBundle.load(path, options: .init(needsEncoder: true))
  }

  static func reference(_ kind: String, _ name: String) throws -> SafeTensorsFile {
    try SafeTensorsFile(url: Fixtures.url("reference/\(kind)/\(name).safetensors"))
  }

  func expectClose(_ ours: Tensor, _ ref: Tensor, _ what: String) {
    #expect(ours.shape == ref.shape, "\(what): shape \(ours.shape) vs \(ref.shape)")
    guard ours.shape == ref.shape else { return }
    let err = Compare.maxAbsDiff(ours.data, ref.data)
    let tolerance = Compare.componentTolerance(ref.data)
    #expect(err <= tolerance, "\(what): max error \(err) > \(tolerance)")
  }

  @Test(arguments: ["sd1-tiny", "sd2-tiny"], [false, true])
  func textEncoder(name: String, singleFile: Bool) throws {
    let model = try Self.bundle(name, singleFile: singleFile)
    let ref = try Self.reference("text_encoder", name)
    let ids = try ref.tensor("input_ids")
    let rows = (0..<ids.dim(0)).map { b in (0..<ids.dim(1)).map { Int(ids.data[b * ids.dim(1) + $0]) } }
    let out = model.textEncoder(rows)
    let what = "\(name)\(singleFile ? ".safetensors" : "")"
    expectClose(out.hiddenStates[0], try ref.tensor("embeddings"), "\(what) embeddings")
    expectClose(out.lastHiddenState, try ref.tensor("last_hidden_state"), "\(what) last_hidden_state")
    expectClose(model.textEncoder.normedHiddenState(out, clipSkip: 1), try ref.tensor("penultimate_final_ln"), "\(what) clip skip 1")
    expectClose(out.pooled, try ref.tensor("pooler_output"), "\(what) pooled")
  }

  @Test(arguments: ["sd1-tiny", "sd2-tiny", "sd1-inpaint-tiny", "x4-upscaler-tiny"], [false, true])
  func unet(name: String, singleFile: Bool) throws {
    guard !singleFile || Self.singleFiles.contains(name) else { return }
    let model = try Self.bundle(name, singleFile: singleFile)
    let ref = try Self.reference("unet", name)
    let sample = try ref.tensor("sample"), context = try ref.tensor("encoder_hidden_states")
    let labels = ref.contains("class_labels") ? try ref.tensor("class_labels").data.map { Int($0) } : nil
    for i in 0..<2 {
      let t = try ref.tensor("timestep_\(i)").data
      let out = model.unet(sample, timesteps: t, context: context, classLabels: labels)
      expectClose(out, try ref.tensor("out_\(i)"), "\(name)\(singleFile ? ".safetensors" : "") UNet t=\(t[0])")
    }
  }

  @Test(arguments: ["sd1-tiny", "sd2-tiny", "x4-upscaler-tiny"], [false, true])
  func vae(name: String, singleFile: Bool) throws {
    guard !singleFile || Self.singleFiles.contains(name) else { return }
    let model = try Self.bundle(name, singleFile: singleFile)
    let ref = try Self.reference("vae", name)
    let what = "\(name)\(singleFile ? ".safetensors" : "")"
    let vae = try #require(model.vae)
    expectClose(vae.decode(try ref.tensor("decode_latent")), try ref.tensor("decode_out"), "\(what) decode")
    let dist = vae.encode(try ref.tensor("encode_image"))
    expectClose(dist.mean, try ref.tensor("encode_mean"), "\(what) encode mean")
    expectClose(dist.std, try ref.tensor("encode_std"), "\(what) encode std")
    expectClose(dist.sample(noise: try ref.tensor("encode_sample_noise")), try ref.tensor("encode_sample"), "\(what) sample")
  }
}
