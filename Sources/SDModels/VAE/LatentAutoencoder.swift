import SDTensor

/// An image ⇄ latent codec the SD pipelines can run on: `AutoencoderKL`, or `AutoencoderTiny`
/// in its place (`pipe.vae = AutoencoderTiny.from_pretrained(…)` in diffusers). Latents handed
/// in and out are scaled (× `scaling_factor`), as the pipelines keep them.
public protocol LatentAutoencoder: Sendable {
  /// Pixels per latent cell along each side (diffusers' `vae_scale_factor`).
  var downFactor: Int { get }
  var latentChannels: Int { get }
  /// Whether encoding draws from the generator (a sample of `AutoencoderKL`'s posterior).
  var encodingDraws: Bool { get }

  /// `scaling_factor · retrieve_latents(vae.encode(image), generator)` for an image
  /// `[1, 3, H, W]` in [−1, 1]: a posterior sample (drawn from `rng`) or deterministic latents.
  func encodeScaled(_ image: Tensor, rng: inout TorchRandom) -> Tensor

  /// `vae.decode(latents / scaling_factor)`: `[1, 3, H, W]`, unclamped.
  func decode(scaledLatents: Tensor) -> Tensor
}

extension AutoencoderKL: LatentAutoencoder {
  public var downFactor: Int { config.downFactor }
  public var latentChannels: Int { config.latentChannels }
  public var encodingDraws: Bool { true }

  public func encodeScaled(_ image: Tensor, rng: inout TorchRandom) -> Tensor {
    let distribution = encode(image)
    let eps = rng.randn(distribution.mean.shape)
    return scale(distribution.sample(noise: eps))
  }
}

extension AutoencoderTiny: LatentAutoencoder {
  public var downFactor: Int { config.downFactor }
  public var latentChannels: Int { config.latentChannels }
  public var encodingDraws: Bool { false }

  public func encodeScaled(_ image: Tensor, rng: inout TorchRandom) -> Tensor {
    encode(image) * config.scalingFactor
  }

  public func decode(scaledLatents z: Tensor) -> Tensor {
    decode(z / config.scalingFactor)
  }
}
