import Foundation
import SDModels
import SDPipeline
import SDTensor
import SDTestSupport
import Testing

/// SDXL's components against diffusers/transformers (scripts/fixtures/sdxl.py, reference/sdxl/components),
/// from the diffusers folders and from the sgm single files: tokenizer_2 ids, both encoders'
/// `hidden_states[-2]` (and clip skip), the pooled projection, `encode_prompt`'s concatenation,
/// the time-id embedding and one UNet forward of base and refiner, the VAE decode at SDXL's scaling.
/// Tolerance (DESIGN.md): max |err| ≤ 1e-4 × max(1, max |ref|).
@Suite struct XLComponentTests {
  static func bundle(_ name: String, singleFile: Bool) throws -> ModelBundle {
    try ModelBundle.load(Fixtures.url("models/\(name)\(singleFile ? ".safetensors" : "")").path)
  }

  static func reference(_ name: String) throws -> SafeTensorsFile {
    try SafeTensorsFile(url: Fixtures.url("reference/sdxl/components/\(name).safetensors"))
  }

  static func ids(_ t: Tensor) -> [[Int]] {
    (0..<t.dim(0)).map { b in (0..<t.dim(1)).map { Int(t.data[b * t.dim(1) + $0]) } }
  }

  func expectClose(_ ours: Tensor, _ ref: Tensor, _ what: String) {
    #expect(ours.shape == ref.shape, "\(what): shape \(ours.shape) vs \(ref.shape)")
    guard ours.shape == ref.shape else { return }
    let err = Compare.maxAbsDiff(ours.data, ref.data)
    let tolerance = Compare.componentTolerance(ref.data)
    #expect(err <= tolerance, "\(what): max error \(err) > \(tolerance)")
  }

  @Test(arguments: [false, true])
  func textEncoders(singleFile: Bool) throws {
    let model = try Self.bundle("sdxl-tiny", singleFile: singleFile)
    let ref = try Self.reference("text_encoders")
    let what = singleFile ? "sdxl-tiny.safetensors" : "sdxl-tiny"
    #expect(model.textTowers.count == 2)
    let prompts = ["a photo of an astronaut riding a horse on mars", ""]
    for (t, name) in ["te1", "te2"].enumerated() {
      let tower = model.textTowers[t]
      let refIDs = Self.ids(try ref.tensor("\(name)_input_ids"))
      #expect(prompts.map { tower.tokenizer.encodePadded($0).ids } == refIDs, "\(what) \(name) ids")
      let out = tower.encoder(refIDs)
      let n = out.hiddenStates.count
      expectClose(out.hiddenStates[n - 2], try ref.tensor("\(name)_hidden_states_penultimate"), "\(what) \(name) hidden[-2]")
      expectClose(out.hiddenStates[n - 3], try ref.tensor("\(name)_hidden_states_clip_skip1"), "\(what) \(name) hidden[-3]")
      if t == 1 {
        expectClose(out.pooled, try ref.tensor("te2_pooled_unprojected"), "\(what) te2 pooled")
        expectClose(try #require(tower.encoder.textEmbeds(out)), try ref.tensor("te2_text_embeds"), "\(what) te2 text_embeds")
      }
    }
    let encoded = try XLTextConditioning(towers: model.textTowers).encode(
      chunks: model.textTowers.map { [$0.tokenizer.encodePadded(prompts[0]).ids] }, clipSkip: 0)
    expectClose(encoded.states, try ref.tensor("prompt_embeds"), "\(what) prompt_embeds")
    expectClose(encoded.pooled, try ref.tensor("pooled_prompt_embeds"), "\(what) pooled_prompt_embeds")
  }

  @Test(arguments: ["sdxl-tiny", "sdxl-refiner-tiny"], [false, true])
  func unet(name: String, singleFile: Bool) throws {
    let model = try Self.bundle(name, singleFile: singleFile)
    let ref = try Self.reference("unet_\(name)")
    let added = AddedConditions(textEmbeds: try ref.tensor("text_embeds"), timeIds: try ref.tensor("time_ids"))
    let sample = try ref.tensor("sample"), context = try ref.tensor("encoder_hidden_states")
    let what = "\(name)\(singleFile ? ".safetensors" : "")"
    for i in 0..<2 {
      let t = try ref.tensor("timestep_\(i)").data[0]
      let out = model.unet(sample, timesteps: [t], context: context, added: added)
      expectClose(out, try ref.tensor("out_\(i)"), "\(what) UNet t=\(t)")
    }
  }

  @Test(arguments: [false, true])
  func vaeDecode(singleFile: Bool) throws {
    let model = try Self.bundle("sdxl-tiny", singleFile: singleFile)
    let ref = try Self.reference("vae_decode")
    expectClose(model.autoencoder.decode(scaledLatents: try ref.tensor("latents")), try ref.tensor("decode_out"), "VAE decode")
  }

  /// transformers' tokenizer_2 (pad `!` as a special added token, `<|endoftext|>` not normalised)
  /// on the tokenizer prompt set (reference/sdxl/components/tokenizer_2_prompts.json).
  @Test func tokenizer2MatchesTransformers() throws {
    let model = try Self.bundle("sdxl-tiny", singleFile: false)
    let data = try Fixtures.data("reference/sdxl/components/tokenizer_2_prompts.json")
    let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let cases = try #require(json["prompts"] as? [[String: Any]])
    #expect(cases.count >= 300)
    var mismatches: [String] = []
    let tokenizer = model.textTowers[1].tokenizer
    for c in cases {
      let text = try #require(c["text"] as? String)
      let ids = try #require(c["ids"] as? [Int]), padded = try #require(c["padded"] as? [Int])
      let untruncated = [tokenizer.bosToken] + tokenizer.tokenize(text) + [tokenizer.eosToken]  // tok(text).input_ids
      if untruncated != ids || tokenizer.encodePadded(text).ids != padded { mismatches.append(text) }
    }
    #expect(mismatches.isEmpty, "\(mismatches.count) prompts differ, e.g. \(mismatches.prefix(3))")
  }
}
