import Foundation
import SDTensor

/// SDXL single files (Stability's sgm layout, `sd_xl_base_1.0.safetensors`,
/// `sd_xl_refiner_1.0.safetensors`, `sd_xl_turbo_1.0_fp16.safetensors`), read as diffusers'
/// `create_unet_diffusers_config_from_ldm`, `convert_ldm_clip_checkpoint` and
/// `convert_open_clip_checkpoint` read them: CLIP-L under `conditioner.embedders.0.transformer.`
/// (already transformers names), OpenCLIP ViT-bigG under `conditioner.embedders.1.model.` (the
/// refiner: `.0.model.`) with every layer kept (SDXL takes `hidden_states[-2]` itself), fused
/// `in_proj` split into q/k/v and `text_projection` transposed; the UNet's `label_emb.0.0/0.2` are
/// `add_embedding.linear_1/2`, with 256-wide time-id sinusoids (sizes shapes cannot tell may be
/// stated in the `sdedit.configs` metadata, as for SD 1.x/2.x files).
extension SingleFileCheckpoint {
  static let xlCLIPPrefix = "conditioner.embedders.0.transformer."
  static let xlBigGPrefix = "conditioner.embedders.1.model."
  static let xlRefinerBigGPrefix = "conditioner.embedders.0.model."

  /// The UNet config keys an sgm file adds: transformer depth per level, the text-time embedding.
  static func xlUNetConfig(_ file: SafeTensorsFile, layout: LDMKeyRules.UNetLayout, addEmbedding: [Int]) throws -> [String: Any] {
    let u = unetPrefix
    let depths = (0..<layout.levels).map { i -> Int in
      let k = 1 + i * (layout.layersPerBlock + 1)
      var n = 0
      while file.contains(u + "input_blocks.\(k).1.transformer_blocks.\(n).attn1.to_q.weight") { n += 1 }
      return max(n, 1)
    }
    return [
      "transformer_layers_per_block": depths, "addition_embed_type": "text_time", "addition_time_embed_dim": 256,
      "projection_class_embeddings_input_dim": addEmbedding[1],
    ]
  }

  /// The text encoder configs of an SDXL base (CLIP-L + bigG) or refiner (bigG) file.
  static func xlTextConfigs(_ file: SafeTensorsFile, family: Family, overrides: [String: [String: Any]]) throws
    -> (first: JSONConfig?, firstLayers: Int, bigG: JSONConfig, bigGLayers: Int)
  {
    let path = file.path
    func fail(_ problem: String) -> ConfigError { ConfigError(source: path, problem: problem) }
    let shapes = ShapeReader(file: file)
    var first: JSONConfig?, firstLayers = 0
    if family == .sdxl {
      let t = xlCLIPPrefix + "text_model."
      guard let token = try shapes.shape(t + "embeddings.token_embedding.weight", rank: 2),
        let position = try shapes.shape(t + "embeddings.position_embedding.weight"),
        let fc1 = try shapes.shape(t + "encoder.layers.0.mlp.fc1.weight")
      else { throw fail("incomplete CLIP-L text encoder under \(t)") }
      while file.contains(t + "encoder.layers.\(firstLayers).layer_norm1.weight") { firstLayers += 1 }
      first = JSONConfig(values: overrides["text_encoder", default: [:]].merging([
        "hidden_size": token[1], "vocab_size": token[0], "max_position_embeddings": position[0],
        "num_hidden_layers": firstLayers, "num_attention_heads": max(1, token[1] / 64), "intermediate_size": fc1[0],
        "hidden_act": "quick_gelu", "eos_token_id": 2,
      ]) { given, _ in given }, source: "\(path) (text encoder)")
    }
    let g = family == .sdxl ? xlBigGPrefix : xlRefinerBigGPrefix
    guard let token = try shapes.shape(g + "token_embedding.weight", rank: 2), let position = try shapes.shape(g + "positional_embedding"),
      let fc = try shapes.shape(g + "transformer.resblocks.0.mlp.c_fc.weight"),
      let projection = try shapes.shape(g + "text_projection", rank: 2)
    else { throw fail("incomplete OpenCLIP ViT-bigG text encoder under \(g) (token_embedding, positional_embedding, resblocks, text_projection)") }
    var n = 0
    while file.contains(g + "transformer.resblocks.\(n).ln_1.weight") { n += 1 }
    guard n >= 2 else { throw fail("OpenCLIP text encoder has \(n) layers") }
    let bigG = JSONConfig(values: overrides["text_encoder_2", default: [:]].merging([
      "hidden_size": token[1], "vocab_size": token[0], "max_position_embeddings": position[0],
      "num_hidden_layers": n, "num_attention_heads": max(1, token[1] / 64), "intermediate_size": fc[0],
      "hidden_act": "gelu", "projection_dim": projection[1], "eos_token_id": 2,
    ]) { given, _ in given }, source: "\(path) (text encoder 2)")
    return (first, firstLayers, bigG, n)
  }
}
