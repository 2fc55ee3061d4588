import ArgumentParser
import Foundation
import SDImage
import SDPipeline

/// `sdedit upscale`: dispatches on what `--model` is. A Real-ESRGAN ncnn `.param` file runs
/// `RealESRGANUpscaler`; a folder is a diffusers upscaler (`DiffusionUpscaleOptions`).
struct UpscaleCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "upscale",
    abstract: "Upscale an image with Real-ESRGAN (ncnn .param/.bin, e.g. from scripts/fetch_realesrgan.sh) or a diffusion upscaler.",
    discussion: """
      Example: sdedit upscale --model models/realesrgan/realesrgan-x4plus.param -i photo.png -o photo-x4.png
      A diffusers folder of stabilityai/stable-diffusion-x4-upscaler (×4) or stabilityai/sd-x2-latent-upscaler (×2) \
      runs that diffusion upscaler (--prompt, --noise-level, --steps, --guidance, --sampler, --seed); single-file \
      checkpoints of them are not supported.
      The image is processed in overlapping tiles; --tile 0 runs it in one piece (more memory). Diffusion \
      upscalers blend windows that overlap by a quarter tile (--tile-pad and --tile-feather are Real-ESRGAN's).
      """)

  @Option(help: "A Real-ESRGAN ncnn .param file (its .bin beside it), or a diffusers upscaler folder.")
  var model: String

  @Option(name: [.customShort("i"), .customLong("image")], help: "Input PNG or JPEG, or - for stdin.")
  var image: String

  @Option(name: [.short, .long], help: "Output path (.png or .jpg), or - for PNG on stdout.")
  var output: String

  @Option(help: "Tile size in input pixels (0: the whole image as one tile).")
  var tile = 256

  @OptionGroup(title: "Diffusion upscalers") var diffusion: DiffusionUpscaleOptions

  @Option(
    name: .customLong("tile-pad"),
    help: "Context a tile gets from its neighbours, in input pixels (the image edge always gets 10 mirrored pixels).")
  var tilePad = RealESRGANTiling.defaultPad

  @Option(
    name: .customLong("tile-feather"),
    help: "Width of the cross-fade between tiles, in input pixels (even; default \(RealESRGANTiling.defaultFeather), at most half the tile).")
  var tileFeather: Int?

  @OptionGroup var computeOptions: ComputeOptions

  var tiling: RealESRGANTiling {
    let feather = tileFeather ?? min(RealESRGANTiling.defaultFeather, tile / 2 / 2 * 2)
    return RealESRGANTiling(tileSize: tile, pad: tilePad, feather: feather)
  }

  func validate() throws {
    do {
      try tiling.validate()
    } catch {
      throw ValidationError("\(error)")
    }
    if image != "-" && output != "-" && Self.sameFile(image, output) {
      throw ValidationError("--output is the input image (\(output)); sdedit never overwrites its input.")
    }
  }

  func run() throws {
    computeOptions.apply()
    switch try UpscaleModel(path: model) {
    case .diffusers(let folder):
      try diffusion.run(folder: folder, imagePath: image, output: output, tile: tile)
    case .realESRGAN(let paramPath):
      let upscaler = RealESRGANUpscaler(model: try CachedModels.realESRGAN(paramPath: paramPath), tiling: tiling)
      let input = try ImageFile.read(path: image)
      let progress = TileProgress()
      let result = try upscaler.upscale(input) { done, total in progress.update(done, total) }
      let name = URL(fileURLWithPath: paramPath).deletingPathExtension().lastPathComponent
      let parameters = "Postprocess upscale by: \(upscaler.model.scale), Postprocess upscaler: \(name)"
      try ImageFile.write(result, to: output, text: [("parameters", parameters)])
    }
  }

  /// Whether two paths name the same file (same device and inode, links followed), or the same
  /// path when `b` does not exist yet.
  static func sameFile(_ a: String, _ b: String) -> Bool {
    var sa = stat(), sb = stat()
    guard stat(a, &sa) == 0, stat(b, &sb) == 0 else {
      return URL(fileURLWithPath: a).standardizedFileURL == URL(fileURLWithPath: b).standardizedFileURL
    }
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
  }
}

/// What `--model` names, decided from the file system.
enum UpscaleModel {
  case realESRGAN(paramPath: String)
  case diffusers(folder: String)

  init(path: String) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw CLIFailure("\(path): no such file or folder (run scripts/fetch_realesrgan.sh for the Real-ESRGAN models)")
    }
    if isDirectory.boolValue {
      self = .diffusers(folder: path)
    } else if path.hasSuffix(".param") {
      self = .realESRGAN(paramPath: path)
    } else if path.hasSuffix(".bin") {
      throw CLIFailure("\(path): pass the ncnn .param file; its .bin is read from beside it")
    } else {
      throw CLIFailure("\(path): expected a Real-ESRGAN ncnn .param file or a diffusers upscaler folder")
    }
  }
}

/// "tile i/N" on stderr, only when stderr is a terminal.
final class TileProgress {
  let enabled = isatty(STDERR_FILENO) == 1

  func update(_ done: Int, _ total: Int) {
    guard enabled else { return }
    FileHandle.standardError.write(Data("\rupscaling: tile \(done)/\(total)\(done == total ? "\n" : "")".utf8))
  }
}
