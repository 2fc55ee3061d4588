extension NoiseSchedule {
  /// The training schedule a scheduler config describes (`num_train_timesteps`, `beta_start`,
  /// `beta_end`, `beta_schedule`, `trained_betas`, `rescale_betas_zero_snr`), as
  /// `DDPMScheduler.__init__` builds it: the x4 upscaler's `low_res_scheduler`, which only ever
  /// calls `add_noise`.
  public init(ddpmConfig config: SchedulerConfig) throws {
    try self.init(config: config, readsRescaleKey: true, clampFinalAlpha: false)
  }
}
