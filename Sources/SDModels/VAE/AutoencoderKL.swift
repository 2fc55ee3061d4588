import Foundation
import SDTensor

/// diffusers `AutoencoderKL`: the image ⇄ latent codec. Latents handed to and returned by
/// the pipeline are *scaled* (× `scalingFactor`), as in diffusers' pipelines.
public struct AutoencoderKL: Sendable {
  public let config: VAEConfig
  let encoder: VAEEncoder?
  let decoder: VAEDecoder

  /// `w` is the scope of a diffusers `vae/` (`encoder.*`, `decoder.*`, `quant_conv.*`, `post_quant_conv.*`).
  /// With `loadEncoder: false` the encoder's weights are not read (txt2img needs only the decoder).
  public init(_ w: WeightScope, config: VAEConfig, loadEncoder: Bool = true) throws {
    self.config = config
    encoder = loadEncoder ? try VAEEncoder(w("encoder"), quantConv: w("quant_conv"), config: config) : nil
    decoder = try VAEDecoder(w("decoder"), postQuantConv: w("post_quant_conv"), config: config)
  }

  /// The diagonal Gaussian the encoder predicts, in unscaled latent units.
  public struct LatentDistribution: Sendable {
    public let mean: Tensor
    public let std: Tensor

    /// `mean + std·noise` (diffusers `DiagonalGaussianDistribution.sample`).
    public func sample(noise: Tensor) -> Tensor { mean + std * noise }
  }

  /// Image `[N, 3, H, W]` in [−1, 1] → latent distribution (`[N, latent, H/f, W/f]`).
  public func encode(_ image: Tensor) -> LatentDistribution {
    guard let encoder else { preconditionFailure("AutoencoderKL: loaded without its encoder") }
    let moments = encoder(image)
    let parts = moments.chunked(2, axis: 1)
    let std = parts[1].map { expf(0.5 * Swift.min(Swift.max($0, -30), 20)) }  // logvar clamped to [−30, 20]
    return LatentDistribution(mean: parts[0], std: std)
  }

  /// Scaled latents → image `[N, 3, H·f, W·f]` (unclamped, roughly [−1, 1]).
  public func decode(scaledLatents z: Tensor) -> Tensor {
    var unscaled = z / config.scalingFactor
    if let shift = config.shiftFactor { unscaled = unscaled + shift }
    return decoder(unscaled)
  }

  /// Unscaled latents straight into the decoder (`vae.decode(z)` in diffusers).
  public func decode(_ z: Tensor) -> Tensor { decoder(z) }

  /// Scales raw encoder latents for the diffusion model: `(z − shift) · scaling`.
  public func scale(_ latents: Tensor) -> Tensor {
    var z = latents
    if let shift = config.shiftFactor { z = z + (-shift) }
    return z * config.scalingFactor
  }
}
