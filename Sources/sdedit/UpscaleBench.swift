import ArgumentParser
import Foundation
import SDPipeline
import SDTensor

/// `sdedit bench --upscale-x4`: prints `UpscaleBenchmark`'s figures.
enum UpscaleBench {
  static func run(size: Int, steps: Int, json: Bool) throws {
    guard (8...1024).contains(size) else { throw ValidationError("--size must be between 8 and 1024 for --upscale-x4.") }
    guard (1...75).contains(steps) else { throw ValidationError("--steps must be between 1 and 75.") }
    let r = try UpscaleBenchmark.run(size: size, steps: steps) { Console.note($0) }
    print("sdedit bench: x4 upscaler (random weights), \(r.size)×\(r.size) → \(4 * r.size)×\(4 * r.size), \(r.steps) steps, tile \(r.tileSize) (\(r.windows) window\(r.windows == 1 ? "" : "s")), \(Threading.threadCount) threads")
    print(String(format: "model build                  %9.3f s", r.loadSeconds))
    print(String(format: "text + first step            %9.3f s", r.firstStepSeconds))
    if r.steps > 1 { print(String(format: "UNet step (CFG, batch 2)     %9.3f s", r.stepSeconds)) }
    print(String(format: "VAE decode                   %9.3f s", r.decodeSeconds))
    print(String(format: "total upscale                %9.3f s", r.totalSeconds))
    print(String(format: "peak RSS                     %9.2f GiB", Double(r.peakRSSBytes) / 1073741824))
    if json {
      let object: [String: Any] = [
        "model": "x4-upscaler random weights", "size": r.size, "steps": r.steps, "tile": r.tileSize, "windows": r.windows,
        "threads": Threading.threadCount, "load_seconds": r.loadSeconds, "first_step_seconds": r.firstStepSeconds,
        "unet_step_seconds": r.stepSeconds, "vae_decode_seconds": r.decodeSeconds, "total_seconds": r.totalSeconds,
        "peak_rss_bytes": r.peakRSSBytes,
      ]
      let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
      print(String(decoding: data, as: UTF8.self))
    }
  }
}
