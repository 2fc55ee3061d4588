import SDModels

extension ModelBundle {
  /// diffusers' default image size: the UNet's `sample_size` × the VAE factor (512² for SD 1.5,
  /// 1024² for SDXL, 512² for SDXL-Turbo), or 512² when the config has no `sample_size`.
  public var defaultImageSize: ImageSize {
    guard let size = unet.config.sampleSize else { return ImageSize(width: 512, height: 512) }
    let f = autoencoder.downFactor
    return ImageSize(width: size.width * f, height: size.height * f)
  }

  /// The sampler for one image, as diffusers builds it: `options.sampler` (or the model's own
  /// scheduler class) `.from_config(the model's scheduler config)`, with `options.spacing`
  /// overriding `timestep_spacing`, Karras σ and `eta` as asked.
  public func makeSampler(_ options: GenerationOptions) throws -> any Sampler {
    var config = SchedulerConfig(schedulerConfig)
    if let spacing = options.spacing { config = config.overriding(["timestep_spacing": spacing.rawValue]) }
    return try SDModels.makeSampler(
      kind: options.sampler, config: config, stepCount: options.stepCount, karras: options.karras, eta: options.eta)
  }

  /// The sampler `makeSampler` picks without `options.sampler`: the scheduler config's class.
  public var defaultSampler: SamplerKind? {
    ((try? schedulerConfig.string("_class_name")) ?? nil).flatMap { SamplerKind(diffusersClassName: $0) }
  }

  /// What the scheduler config implies when no sampler is named (`sdedit info`): the class,
  /// its timestep spacing, prediction type and `steps_offset`.
  public var samplerSummary: String {
    let config = SchedulerConfig(schedulerConfig)
    let className = config.className ?? "PNDMScheduler"
    guard let kind = SamplerKind(diffusersClassName: className) else {
      return "\(className) (not supported by sdedit: choose one with --sampler)"
    }
    let json = config.json
    let prediction = (try? json.string("prediction_type", default: "epsilon")) ?? "epsilon"
    var parts = ["\(className) (--sampler \(kind.rawValue))"]
    if kind.usesTimestepSpacing {
      let spacing = (try? json.string("timestep_spacing", default: kind.defaultSpacing.rawValue)) ?? kind.defaultSpacing.rawValue
      parts.append("timestep spacing \(spacing)")
      parts.append("steps_offset \((try? json.int("steps_offset", default: 0)) ?? 0)")
    } else {
      let original = (try? json.int("original_inference_steps", default: 50)) ?? 50
      parts.append("timesteps from the \(original)-step distillation schedule")
    }
    parts.append("\(prediction) prediction")
    if (try? json.bool("use_karras_sigmas", default: false)) == true { parts.append("Karras sigmas") }
    return parts.joined(separator: ", ")
  }
}
