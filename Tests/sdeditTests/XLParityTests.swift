import Testing

/// SDXL end to end through the CLI (scripts/fixtures/sdxl.py): two text encoders of different
/// widths, tokenizer_2's `!` padding, zeros for an absent negative prompt, clip skip, micro-
/// conditioning, non-square sizes, Euler / Euler-a / DPM++ 2M Karras, SDXL-Turbo, the sgm single
/// file, img2img, inpaint (4- and 9-channel) and the refiner hand-off — each run's recorded sdedit
/// command line against diffusers 0.42.1's image, ≥ 40 dB. With adapters (scripts/fixtures/sdxl_adapters.py):
/// kohya LoRAs under sgm and diffusers-style UNet names with `lora_te1_`/`lora_te2_`, PEFT, LoCon, a
/// prompt tag, stacking, the sgm single file, a `clip_l`/`clip_g` embedding and `--prompt-weighting a1111`.
@Suite struct XLParityTests {
  static let runs = RecordedRun.load("sdxl")
  static let adapterRuns = RecordedRun.load("sdxl_adapters")

  @Test func fixturesArePresent() {
    #expect(Self.runs.count >= 25)
    #expect(Self.runs.count == RecordedRun.listedCount("sdxl"))
  }

  @Test(arguments: runs)
  func matchesDiffusers(run: RecordedRun) throws {
    try run.check()
  }

  @Test func adapterFixturesArePresent() {
    #expect(Self.adapterRuns.count >= 9)
    #expect(Self.adapterRuns.count == RecordedRun.listedCount("sdxl_adapters"))
  }

  @Test(arguments: adapterRuns)
  func adaptersMatchDiffusers(run: RecordedRun) throws {
    try run.check()
  }
}
