import Testing

/// Few-step generation end to end through the CLI (scripts/fixtures/fewstep.py): LCM and TCD, a
/// guidance-embedded LCM UNet, trailing spacing, TAESD and a swapped VAE, in txt2img, img2img and
/// inpaint — each run's recorded sdedit command line against diffusers 0.42.1's image, ≥ 40 dB.
@Suite struct FewStepParityTests {
  static let runs = RecordedRun.load("fewstep")

  @Test func fixturesArePresent() {
    #expect(Self.runs.count >= 29)
    #expect(Self.runs.count == RecordedRun.listedCount("fewstep"))
  }

  @Test(arguments: runs)
  func matchesDiffusers(run: RecordedRun) throws {
    try run.check()
  }
}
