/// CompVis/LDM single-file names → diffusers names, for the UNet, the VAE and the text
/// encoders of SD 1.x/2.x (the mapping diffusers' `convert_ldm_*_checkpoint` functions apply).
public enum LDMKeyRules {
  /// The shape of an LDM UNet, read from its keys: how many levels, resnets per level, and
  /// which levels have attention.
  public struct UNetLayout: Sendable, Equatable {
    public var levels: Int
    public var layersPerBlock: Int
    public var attentionLevels: Set<Int>
  }

  /// `model.diffusion_model.*` rules (the prefix itself is added by the caller).
  public static func unet(_ layout: UNetLayout) -> KeyRules {
    var rules = KeyRules()
    rules.add("time_embed.0", "time_embedding.linear_1")
    rules.add("time_embed.2", "time_embedding.linear_2")
    rules.add("label_emb.0", "class_embedding")
    // SDXL: `label_emb = Sequential(Sequential(linear, SiLU, linear))` is diffusers' add_embedding.
    rules.add("label_emb.0.0", "add_embedding.linear_1")
    rules.add("label_emb.0.2", "add_embedding.linear_2")
    rules.add("input_blocks.0.0", "conv_in")
    rules.add("out.0", "conv_norm_out")
    rules.add("out.2", "conv_out")
    let l = layout.layersPerBlock
    for i in 0..<layout.levels {
      for j in 0..<l {
        let k = 1 + i * (l + 1) + j
        rules.add(resnet, from: "input_blocks.\(k).0", to: "down_blocks.\(i).resnets.\(j)")
        rules.add("input_blocks.\(k).1", "down_blocks.\(i).attentions.\(j)")
      }
      if i < layout.levels - 1 {
        rules.add("input_blocks.\((i + 1) * (l + 1)).0.op", "down_blocks.\(i).downsamplers.0.conv")
      }
      for j in 0...l {
        let k = i * (l + 1) + j
        rules.add(resnet, from: "output_blocks.\(k).0", to: "up_blocks.\(i).resnets.\(j)")
        let hasAttention = layout.attentionLevels.contains(layout.levels - 1 - i)
        if hasAttention { rules.add("output_blocks.\(k).1", "up_blocks.\(i).attentions.\(j)") }
        if j == l, i < layout.levels - 1 {
          rules.add("output_blocks.\(k).\(hasAttention ? 2 : 1).conv", "up_blocks.\(i).upsamplers.0.conv")
        }
      }
    }
    rules.add(resnet, from: "middle_block.0", to: "mid_block.resnets.0")
    rules.add("middle_block.1", "mid_block.attentions.0")
    rules.add(resnet, from: "middle_block.2", to: "mid_block.resnets.1")
    return rules
  }

  /// Inside an LDM `ResBlock`.
  static let resnet: KeyRules = {
    var r = KeyRules()
    r.add("in_layers.0", "norm1")
    r.add("in_layers.2", "conv1")
    r.add("emb_layers.1", "time_emb_proj")
    r.add("out_layers.0", "norm2")
    r.add("out_layers.3", "conv2")
    r.add("skip_connection", "conv_shortcut")
    return r
  }()

  /// `first_stage_model.*` rules for a VAE with `levels` blocks and `layers` resnets per encoder block.
  public static func vae(levels: Int, layers: Int) -> KeyRules {
    var rules = KeyRules()
    for part in ["quant_conv", "post_quant_conv", "encoder.conv_in", "encoder.conv_out", "decoder.conv_in", "decoder.conv_out"] {
      rules.add(part, part)
    }
    for coder in ["encoder", "decoder"] {
      rules.add("\(coder).norm_out", "\(coder).conv_norm_out")
      rules.add(vaeResnet, from: "\(coder).mid.block_1", to: "\(coder).mid_block.resnets.0")
      rules.add(vaeResnet, from: "\(coder).mid.block_2", to: "\(coder).mid_block.resnets.1")
      rules.add(vaeAttention, from: "\(coder).mid.attn_1", to: "\(coder).mid_block.attentions.0")
    }
    for i in 0..<levels {
      for j in 0..<layers {
        rules.add(vaeResnet, from: "encoder.down.\(i).block.\(j)", to: "encoder.down_blocks.\(i).resnets.\(j)")
      }
      rules.add("encoder.down.\(i).downsample.conv", "encoder.down_blocks.\(i).downsamplers.0.conv")
      // The LDM decoder numbers its levels from the lowest resolution up; diffusers the other way.
      let up = levels - 1 - i
      for j in 0...layers {
        rules.add(vaeResnet, from: "decoder.up.\(up).block.\(j)", to: "decoder.up_blocks.\(i).resnets.\(j)")
      }
      rules.add("decoder.up.\(up).upsample.conv", "decoder.up_blocks.\(i).upsamplers.0.conv")
    }
    return rules
  }

  static let vaeResnet: KeyRules = {
    var r = KeyRules()
    for name in ["norm1", "conv1", "norm2", "conv2"] { r.add(name, name) }
    r.add("nin_shortcut", "conv_shortcut")
    return r
  }()

  static let vaeAttention: KeyRules = {
    var r = KeyRules()
    r.add("norm", "group_norm")
    r.add("q", "to_q")
    r.add("k", "to_k")
    r.add("v", "to_v")
    r.add("proj_out", "to_out.0")
    return r
  }()

  /// OpenCLIP text tower (`cond_stage_model.model.*`, SD 2.x) for `layers` resblocks kept;
  /// the fused `attn.in_proj_*` tensors are split by the loader, not renamed here.
  public static func openCLIPText(layers: Int) -> KeyRules {
    var rules = KeyRules()
    rules.add("token_embedding", "text_model.embeddings.token_embedding")
    rules.add("ln_final", "text_model.final_layer_norm")
    for n in 0..<layers {
      let from = "transformer.resblocks.\(n)", to = "text_model.encoder.layers.\(n)"
      rules.add("\(from).ln_1", "\(to).layer_norm1")
      rules.add("\(from).ln_2", "\(to).layer_norm2")
      rules.add("\(from).mlp.c_fc", "\(to).mlp.fc1")
      rules.add("\(from).mlp.c_proj", "\(to).mlp.fc2")
      rules.add("\(from).attn.out_proj", "\(to).self_attn.out_proj")
    }
    return rules
  }
}
