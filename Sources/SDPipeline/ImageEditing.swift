import Foundation
import SDImage
import SDModels
import SDTensor

/// img2img and inpainting, as diffusers' `StableDiffusionImg2ImgPipeline` and
/// `StableDiffusionInpaintPipeline` do them (REFERENCE B2, B13, B14):
/// - the schedule starts at `t_start = N − ⌊N·strength⌋`; the image latents (a seeded sample
///   of the VAE posterior × scaling) are noised to `timesteps[t_start]` with a second draw;
/// - inpainting with a 4-channel UNet blends after every step: the known region is reset to the
///   image latents noised to the next timestep with the same noise (clean after the last step);
/// - a 9-channel UNet takes `latents ⊕ mask ⊕ masked-image latents` instead;
/// - the generator is consumed in diffusers' order (image sample, noise, masked-image sample,
///   then any ancestral noise), so seeds reproduce diffusers' images; a TAESD encodes without
///   drawing (`retrieve_latents` returns its `.latents`).
/// Images whose sides are not multiples of the VAE factor are padded (edge pixels; the mask with
/// "keep") and the result cropped back.
public struct ImageEditing {
  public let model: ModelBundle

  public init(model: ModelBundle) {
    self.model = model
  }

  public struct Output {
    public let image: RGBImage
    public let warnings: [String]
  }

  /// `StableDiffusionImg2ImgPipeline`.
  public func img2img(_ image: RGBImage, options: GenerationOptions, progress: ProgressHandler = { _ in true }) throws -> Output {
    let result = try run(image: image, mask: nil, options: options, progress: progress)
    return Output(image: result.image, warnings: result.warnings)
  }

  /// `StableDiffusionInpaintPipeline`; white mask pixels are repainted. With `composite`, pixels
  /// outside the (blurred) mask are the input's exactly; without, the raw decode (what diffusers returns).
  public func inpaint(
    _ image: RGBImage, mask: RGBImage, options: GenerationOptions, maskBlur: Float = 0, composite: Bool = true,
    progress: ProgressHandler = { _ in true }
  ) throws -> Output {
    guard mask.width == image.width, mask.height == image.height else {
      throw GenerationError("the mask is \(mask.width)×\(mask.height) but the image is \(image.width)×\(image.height); they must be the same size")
    }
    let soft = mask.gaussianBlurred(sigma: maskBlur)
    let result = try run(image: image, mask: soft, options: options, progress: progress)
    let output = composite ? image.rgb().composited(with: result.image, mask: soft) : result.image
    return Output(image: output, warnings: result.warnings)
  }

  func run(image original: RGBImage, mask originalMask: RGBImage?, options: GenerationOptions, progress: ProgressHandler) throws
    -> (image: RGBImage, warnings: [String])
  {
    let codec = model.autoencoder
    let f = codec.downFactor
    let (width, height) = (original.width, original.height)
    let (paddedW, paddedH) = ((width + f - 1) / f * f, (height + f - 1) / f * f)
    var sized = options
    (sized.width, sized.height) = (paddedW, paddedH)
    try Text2Image.validate(sized, model: model)
    let image = original.rgb().padded(toWidth: paddedW, height: paddedH)
    let mask = originalMask?.grayscale().padded(toWidth: paddedW, height: paddedH, fill: 0)

    guard progress(Progress(phase: .encoding, step: 0, stepCount: options.stepCount)) else { throw CancelledError() }
    let conditioning = try Conditioning.prepare(model, options, width: paddedW, height: paddedH)
    let warnings = conditioning.warnings

    var sampler = try model.makeSampler(options)
    let start = try sampler.startIndex(strength: Double(options.strength))
    var rng = TorchRandom(seed: options.seed)
    let latentShape = [1, codec.latentChannels, paddedH / f, paddedW / f]
    let pixels = ImageTensor.tensor(from: image)  // [1, 3, H, W] in [−1, 1]
    let unetChannels = model.unet.config.inChannels
    let isStrengthMax = options.strength >= 1

    // The image latents: img2img always; inpainting when blending (4 channels) or not starting from pure noise.
    var imageLatents: Tensor?
    if mask == nil || unetChannels == 4 || !isStrengthMax {
      imageLatents = codec.encodeScaled(pixels, rng: &rng)
    }
    let noise = rng.randn(latentShape)
    var latents: Tensor
    if mask != nil && isStrengthMax {
      latents = sampler.initialLatents(noise: noise)
    } else {
      latents = sampler.addNoise(imageLatents!, noise: noise, step: start)
    }

    var denoiser = Denoiser(model: model, conditioning: conditioning, options: options)
    var latentMask: Tensor?
    if let mask {
      // diffusers: binarize (≥ 0.5 → 1), the masked image keeps pixels where the mask is < 0.5.
      let binary = ImageTensor.maskTensor(from: mask).map { $0 < 0.5 ? 0 : 1 }  // [1, 1, H, W]
      let keep = binary.map { 1 - $0 }
      let maskedImage = pixels * Tensor.concat([keep, keep, keep], axis: 1)
      let small = binary.resizedNearest(height: paddedH / f, width: paddedW / f)  // [1, 1, h, w]
      latentMask = small
      if unetChannels == 9 {
        let maskedLatents = codec.encodeScaled(maskedImage, rng: &rng)
        denoiser.extraChannels = Tensor.concat([small, maskedLatents], axis: 1)  // [1, 5, h, w]
      } else if codec.encodingDraws {
        _ = rng.randn(latentShape)  // diffusers samples the masked image's posterior here too
      }
    }
    guard mask == nil || unetChannels == 4 || unetChannels == 9 else {
      throw GenerationError("inpainting needs a UNet with 4 or 9 input channels; this one has \(unetChannels)")
    }
    if mask == nil && unetChannels != 4 {
      throw GenerationError("img2img needs a UNet with 4 input channels; this one has \(unetChannels) (use inpaint for 9-channel models)")
    }

    let total = sampler.timesteps.count
    let blending = unetChannels == 4 ? latentMask : nil
    let timesteps = sampler.timesteps
    let samplerCopy = sampler
    latents = try sampler.sample(latents, from: start, rng: &rng, denoise: denoiser.callAsFunction) { step, x in
      if let blending, let known = imageLatents {
        let proper = step + 1 < timesteps.count ? samplerCopy.addNoise(known, noise: noise, step: step + 1) : known
        x = Self.blend(known: proper, generated: x, mask: blending)
      }
      guard progress(Progress(phase: .sampling, step: step + 1 - start, stepCount: total - start, latents: x)) else {
        throw CancelledError()
      }
    }
    guard progress(Progress(phase: .decoding, step: total, stepCount: total)) else { throw CancelledError() }
    let decoded = ImageTensor.image(from: Text2Image.decode(latents, codec: codec))
    return (decoded.cropped(toWidth: width, height: height), warnings)
  }

  /// `(1 − m)·known + m·generated` with a `[1, 1, h, w]` mask broadcast over channels.
  static func blend(known: Tensor, generated: Tensor, mask: Tensor) -> Tensor {
    let channels = generated.dim(1), plane = generated.dim(2) * generated.dim(3)
    return Tensor(shape: generated.shape) { out in
      for c in 0..<channels {
        for i in 0..<plane {
          let m = mask.data[i], j = c * plane + i
          out[j] = (1 - m) * known.data[j] + m * generated.data[j]
        }
      }
    }
  }
}
