import ArgumentParser
import Foundation
import SDImage
import SDModels
import SDPipeline
import SDTensor

/// `--vae`, `--taesd`, `--preview`: the image codec a generation runs with, and live previews.
struct DecoderOptions: ParsableArguments {
  @Option(help: "Another AutoencoderKL instead of the model's: a diffusers folder or a single .safetensors (e.g. vae-ft-mse-840000-ema-pruned.safetensors).")
  var vae: String?

  @Option(help: "A TAESD instead of the VAE, for decoding (and encoding in img2img/inpaint): a diffusers AutoencoderTiny folder, or taesd_decoder.safetensors (with taesd_encoder.safetensors beside it for img2img/inpaint).")
  var taesd: String?

  @Option(help: "After every step, write the TAESD decode of the current latents to this image (needs --taesd).")
  var preview: String?

  func validate() throws {
    if vae != nil, taesd != nil { throw ValidationError("--vae and --taesd both replace the VAE: give one of them.") }
    if let preview {
      guard taesd != nil else { throw ValidationError("--preview needs --taesd PATH (previews are TAESD decodes).") }
      guard preview != "-" else { throw ValidationError("--preview needs a file path, not stdout.") }
    }
  }

  /// Refuses a preview path that names the output or an input.
  func checkPreview(output: String?, inputs: [String] = []) throws {
    guard let preview else { return }
    for other in [output].compactMap({ $0 }) + inputs where other != "-" && SameFile.check(preview, other) {
      throw ValidationError("--preview \(preview) names the output or an input file.")
    }
  }

  /// The model options that swap the codec.
  func apply(to options: inout ModelBundle.Options) {
    options.vae = vae
    options.taesd = taesd
  }

  /// `base`, plus the preview write after every sampling step.
  func progress(_ base: @escaping ProgressHandler, model: ModelBundle) -> ProgressHandler {
    guard let preview, let taesd = model.taesd else { return base }
    return { progress in
      if progress.phase == .sampling, let latents = progress.latents {
        let image = ImageTensor.image(from: taesd.decode(scaledLatents: latents))
        do {
          try ImageFile.write(image, to: preview)
        } catch {
          Console.warn("--preview: \(error)")
        }
      }
      return base(progress)
    }
  }

  /// The PNG `parameters` fields that name a replaced codec (A1111 writes `VAE: <file>`).
  var parameters: [(String, String)] {
    [vae, taesd].compactMap { $0 }.map { ("VAE", URL(fileURLWithPath: $0).lastPathComponent) }
  }
}

extension TimestepSpacing: ExpressibleByArgument {}
