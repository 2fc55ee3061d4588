/// The channel plan of diffusers' K-diffusion UNet blocks (`KDownBlock2D`, `KCrossAttnDownBlock2D`,
/// `KUpBlock2D`, `KCrossAttnUpBlock2D` in `unet_2d_blocks.py`), derived once from `UNetConfig`
/// so that validation and construction read the same numbers. Quirks reproduced on purpose:
/// - GroupNorm group counts are `channels / 32` (`resnet_group_size` is never passed on), and
///   `max(1, dim / 32)` in the attention blocks;
/// - `attention_head_dim` is the width of a head, and up block `i` uses `attention_head_dim[i]`
///   (not reversed) but the reversed `cross_attention_dim`;
/// - a K cross-attention up block is "first" (self-attention on, no skip widening) when its
///   in, out and time-embedding widths are all equal, and "middle" when in ≠ out (its last
///   resnet then narrows to `in` channels);
/// - down blocks with self-attention are those without a downsampler;
/// - up blocks have `layers_per_block` resnets (diffusers' `num_layers − 1`) and use only the
///   last skip state they are handed; the last cross-attention down block hands on no state.
struct KBlockPlan: Sendable, Equatable {
  struct Resnet: Sendable, Equatable {
    var inChannels: Int, outChannels: Int, conv2Out: Int, groups: Int, groupsOut: Int
  }
  struct Attention: Sendable, Equatable {
    var dim: Int, headDim: Int, contextDim: Int, selfAttention: Bool
    var groups: Int { Swift.max(1, dim / UNetConfig.kGroupSize) }
    var heads: Int { dim / headDim }
  }

  var resnets: [Resnet]
  /// Empty for `KDownBlock2D` / `KUpBlock2D`.
  var attentions: [Attention]
  /// Down blocks: a `KDownsample2D` follows; up blocks: a `KUpsample2D` follows.
  var resamples: Bool
  /// Down blocks: the states handed to the expanding path are the outputs (false: `None`).
  var emitsStates: Bool
}

extension UNetConfig {
  /// diffusers' `resnet_group_size` default in the K blocks.
  static let kGroupSize = 32

  func kDownPlan(_ i: Int) -> KBlockPlan {
    let out = blockOutChannels[i], input = i == 0 ? blockOutChannels[0] : blockOutChannels[i - 1]
    let downsamples = i != blockOutChannels.count - 1
    let resnets = (0..<layersPerBlock[i]).map { j -> KBlockPlan.Resnet in
      let rin = j == 0 ? input : out
      return .init(inChannels: rin, outChannels: out, conv2Out: out, groups: rin / Self.kGroupSize, groupsOut: out / Self.kGroupSize)
    }
    let attention = KBlockPlan.Attention(dim: out, headDim: attentionHeadDim[i], contextDim: crossAttentionDim[i], selfAttention: !downsamples)
    let cross = downBlocks[i] == .kCrossAttn
    return KBlockPlan(
      resnets: resnets, attentions: cross ? [KBlockPlan.Attention](repeating: attention, count: resnets.count) : [],
      resamples: downsamples, emitsStates: !cross || downsamples)
  }

  func kUpPlan(_ i: Int) -> KBlockPlan {
    let n = blockOutChannels.count
    let reversed = Array(blockOutChannels.reversed())
    let out = reversed[i], input = reversed[Swift.min(i + 1, n - 1)]
    let layers = layersPerBlock[n - 1 - i]
    let contextDim = crossAttentionDim[n - 1 - i]
    let kOut = input
    if upBlocks[i] == .kPlain {
      let resnets = (0..<layers).map { j -> KBlockPlan.Resnet in
        let rin = j == 0 ? 2 * out : out, rout = j == layers - 1 ? kOut : out
        return .init(inChannels: rin, outChannels: rout, conv2Out: rout, groups: rin / Self.kGroupSize, groupsOut: out / Self.kGroupSize)
      }
      return KBlockPlan(resnets: resnets, attentions: [], resamples: i != n - 1, emitsStates: true)
    }
    let isFirst = input == out && out == timeEmbedDim
    let isMiddle = input != out
    let kIn = isFirst ? out : 2 * out
    var resnets: [KBlockPlan.Resnet] = [], attentions: [KBlockPlan.Attention] = []
    for j in 0..<layers {
      let rin = j == 0 ? kIn : out, last = j == layers - 1
      resnets.append(.init(
        inChannels: rin, outChannels: out, conv2Out: isMiddle && last ? kOut : out,
        groups: rin / Self.kGroupSize, groupsOut: out / Self.kGroupSize))
      attentions.append(.init(dim: last ? kOut : out, headDim: attentionHeadDim[i], contextDim: contextDim, selfAttention: isFirst))
    }
    return KBlockPlan(resnets: resnets, attentions: attentions, resamples: i != n - 1, emitsStates: true)
  }

  /// Checks what the K blocks need before any weight is read: no mid block, ≥ 1 layer per block,
  /// group counts that divide their channels, head widths that divide their attention widths.
  func validateKBlocks(_ fail: (String) -> ConfigError) throws {
    guard !hasMidBlock else { throw fail("K-diffusion blocks take no mid block (set mid_block_type to null)") }
    guard layersPerBlock.allSatisfy({ $0 >= 1 }) else { throw fail("layers_per_block must be at least 1") }
    let plans = blockOutChannels.indices.map { ("down block \($0)", kDownPlan($0)) }
      + blockOutChannels.indices.map { ("up block \($0)", kUpPlan($0)) }
    for (name, plan) in plans {
      for r in plan.resnets {
        for (channels, groups) in [(r.inChannels, r.groups), (r.outChannels, r.groupsOut)] {
          guard groups >= 1, channels % groups == 0 else {
            throw fail("\(name): \(channels) channels cannot be split into \(groups) groups of ~\(Self.kGroupSize)")
          }
        }
      }
      for a in plan.attentions {
        guard a.headDim >= 1, a.dim % a.headDim == 0, a.dim % a.groups == 0 else {
          throw fail("\(name): attention width \(a.dim) is not divisible by attention_head_dim \(a.headDim)")
        }
      }
    }
  }
}
