import Foundation
import SDImage
import SDModels
import SDTensor
import SDTestSupport
import Testing

/// Few-step generation end to end through the CLI (scripts/fixtures/fewstep.py): LCM and TCD, a
/// guidance-embedded LCM UNet, trailing spacing, TAESD and a swapped VAE, in txt2img, img2img and
/// inpaint — each run's recorded sdedit command line against diffusers 0.42.1's image, ≥ 40 dB.
@Suite struct FewStepParityTests {
  struct Run: Sendable, CustomTestStringConvertible {
    let name: String
    let arguments: [String]
    let reference: String
    var testDescription: String { name }
  }

  static let runs: [Run] = {
    guard let data = try? Fixtures.data("reference/fewstep/index.json"),
      let index = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let entries = index["runs"] as? [[String: Any]]
    else { return [] }
    return entries.compactMap { entry in
      guard let json = entry["json"] as? String, let file = entry["file"] as? String,
        let data = try? Fixtures.data("reference/\(json)"),
        let meta = try? JSONSerialization.jsonObject(with: PipelineParityTests.strictJSON(data)) as? [String: Any],
        let cli = meta["cli"] as? [String]
      else { return nil }
      let arguments = cli.map { $0.hasPrefix("fixtures:") ? Fixtures.url(String($0.dropFirst("fixtures:".count))).path : $0 }
      return Run(name: String(json.dropFirst("fewstep/".count).dropLast(".json".count)), arguments: arguments, reference: file)
    }
  }()

  @Test func fixturesArePresent() {
    #expect(Self.runs.count >= 29)
  }

  @Test(arguments: runs)
  func matchesDiffusers(run: Run) throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out.png").path
    let result = try CLIRunner.run(run.arguments + ["-o", out])
    #expect(result.status == 0, "sdedit failed: \(result.stderr)")
    guard result.status == 0 else { return }
    let ours = try ImageFile.read(path: out).rgb()
    let image = try SafeTensorsFile(url: Fixtures.url("reference/\(run.reference)")).tensor("image")
    #expect(ours.width == image.dim(1) && ours.height == image.dim(0))
    let psnr = Compare.psnr(ours.pixels, PipelineParityTests.quantize(image))
    #expect(psnr >= 40, "\(run.name): PSNR \(psnr) dB")
  }
}
