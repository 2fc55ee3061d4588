import ArgumentParser
import Foundation
import SDPipeline
import SDTensor

extension ModelBenchmark.Architecture: ExpressibleByArgument {}

struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench", abstract: "Measure sdedit's speed on this machine (release builds only mean anything).")

  @Flag(help: "Time the SD-shaped kernels (conv, linear, attention) against plain sgemm.")
  var kernels = false

  @Option(help: "Timed runs per case (the median is reported).")
  var repeats = 5

  @Option(help: "Time one Real-ESRGAN upscale with this ncnn .param (e.g. models/realesrgan/realesrgan-x4plus.param).")
  var realesrgan: String?

  @Flag(help: "Time a full-size x4 diffusion upscale (stable-diffusion-x4-upscaler shapes, made-up weights) of a --size input (default 128), --steps steps.")
  var upscaleX4 = false

  @Option(help: "Image size in pixels (default 512; --realesrgan: the input photo, default 256; --upscale-x4: the input, default 128).")
  var size: Int?

  @Option(help: "A real checkpoint to time instead of SD 1.5 shapes with made-up weights.")
  var model: String?

  @Option(help: "UNet steps to time.")
  var steps = 2

  @Option(help: "Guidance of the timed steps: above 1, classifier-free guidance (UNet batch 2); 1 or less, one pass per step (LCM, Turbo).")
  var guidance: Float = 7.5

  @Option(help: "Made-up model shapes: sd15 (SD 1.5, LCM distillations), sd21 (SD 2.1 base, SD-Turbo) or sdxl (SDXL base, SDXL-Turbo).")
  var arch: ModelBenchmark.Architecture = .sd15

  @Flag(help: "Also time a TAESD decode (madebyollin's 64-channel decoder, made-up weights) and count it in the image time.")
  var taesd = false

  @Flag(help: "Print one JSON object on the last line of stdout (with --kernels: every case's figures).")
  var json = false

  @Flag(help: "Also print the time per kind of operation (conv, attention, GroupNorm, …) for each phase.")
  var profile = false

  @OptionGroup var computeOptions: ComputeOptions

  func run() throws {
    computeOptions.apply()
    if let realesrgan { return try RealESRGANBench.run(paramPath: realesrgan, size: size ?? 256) }
    if upscaleX4 { return try UpscaleBench.run(size: size ?? 128, steps: steps, json: json) }
    guard kernels else { return try runModel() }
    try runKernels()
  }

  func runKernels() throws {
    func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: n, withPad: " ", startingAt: 0) }
    print("sdedit bench --kernels: \(Threading.threadCount) threads, CPU: \(CPUInfo.modelName), \(CPUInfo.kernelPath)")
    print(pad("case", 46) + "      GFLOP    seconds    GFLOP/s")
    let rows = KernelBenchmark.run(repeats: repeats)
    for row in rows {
      print(pad(row.name, 46) + String(format: " %10.2f %10.4f %10.1f", row.gflop, row.seconds, row.gflops))
    }
    if json {
      let object: [String: Any] = [
        "threads": Threading.threadCount, "repeats": repeats, "cpu_model": CPUInfo.modelName,
        "kernel_path_fp32": CPUInfo.kernelPath(for: .fp32), "kernel_path_bf16": CPUInfo.kernelPath(for: .bf16),
        "rows": rows.map { ["name": $0.name, "gflop": $0.gflop, "seconds": $0.seconds, "gflops": $0.gflops] as [String: Any] },
      ]
      let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
      print(String(decoding: data, as: UTF8.self))
    }
  }

  func runModel() throws {
    var settings = ModelBenchmark.Settings()
    settings.size = size ?? 512
    settings.steps = steps
    settings.modelPath = model
    settings.profile = profile
    settings.guidance = guidance
    settings.architecture = arch
    settings.taesd = taesd
    guard settings.size % 64 == 0, settings.size >= 64, settings.size <= 2048 else {
      throw ValidationError("--size must be a multiple of 64 between 64 and 2048.")
    }
    guard (1...50).contains(steps) else { throw ValidationError("--steps must be between 1 and 50.") }
    let r = try ModelBenchmark.run(settings) { Console.note($0) }
    func line(_ name: String, _ seconds: Double, _ gflop: Double) {
      print(name.padding(toLength: 28, withPad: " ", startingAt: 0) + String(format: " %9.3f s %9.1f GFLOP %8.1f GFLOP/s %6.1f %% of sgemm",
        seconds, gflop, gflop / seconds, 100 * gflop / seconds / r.sgemmGFLOPS))
    }
    let kernelPath = CPUInfo.kernelPath(for: Precision(rawValue: r.precision) ?? .fp32)
    print("sdedit bench: \(r.model), \(r.size)×\(r.size), \(r.precision), \(Threading.threadCount) threads")
    print("CPU: \(CPUInfo.modelName), kernel path: \(kernelPath)")
    print(String(format: "sgemm 2048³                  %.1f GFLOP/s", r.sgemmGFLOPS))
    line(r.batch == 2 ? "text encode (cond+uncond)" : "text encode (cond)", r.textEncodeSeconds, r.textEncodeGFLOP)
    line(r.batch == 2 ? "UNet step (CFG, batch 2)" : "UNet step (no CFG, batch 1)", r.unetStepSeconds, r.unetStepGFLOP)
    line("VAE decode", r.vaeDecodeSeconds, r.vaeDecodeGFLOP)
    if let s = r.taesdDecodeSeconds, let g = r.taesdDecodeGFLOP { line("TAESD decode", s, g) }
    print(String(format: "image (text + %d steps + %@ decode) %.2f s", steps, r.taesdDecodeSeconds == nil ? "VAE" : "TAESD", r.imageSeconds))
    print(String(format: "peak RSS                     %.2f GiB", Double(r.peakRSSBytes) / 1073741824))
    if json {
      let object: [String: Any] = [
        "model": r.model, "size": r.size, "steps": r.steps, "precision": r.precision, "threads": Threading.threadCount,
        "sgemm_gflops": r.sgemmGFLOPS, "load_seconds": r.loadSeconds,
        "text_encode_seconds": r.textEncodeSeconds, "text_encode_gflop": r.textEncodeGFLOP,
        "unet_step_seconds": r.unetStepSeconds, "unet_step_gflop": r.unetStepGFLOP,
        "vae_decode_seconds": r.vaeDecodeSeconds, "vae_decode_gflop": r.vaeDecodeGFLOP,
        "taesd_decode_seconds": r.taesdDecodeSeconds ?? NSNull(), "taesd_decode_gflop": r.taesdDecodeGFLOP ?? NSNull(),
        "image_seconds": r.imageSeconds, "unet_batch": r.batch, "arch": arch.rawValue, "guidance": Double(guidance),
        "cpu": CPUInfo.summary, "cpu_model": CPUInfo.modelName, "kernel_path": kernelPath,
        "peak_rss_bytes": r.peakRSSBytes,
      ]
      let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
      print(String(decoding: data, as: UTF8.self))
    }
  }
}
