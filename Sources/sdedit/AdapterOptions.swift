import ArgumentParser
import Foundation
import SDModels
import SDPipeline

/// LoRAs, textual-inversion embeddings and prompt weighting, shared by txt2img, img2img and inpaint.
struct AdapterOptions: ParsableArguments {
  @Option(
    name: .customLong("lora"),
    help: ArgumentHelp(
      "Merge a LoRA (kohya, LoCon or diffusers/PEFT .safetensors) at the given multiplier (default 1); repeatable, they stack.",
      valueName: "file[:scale]"))
  var loras: [String] = []

  @Option(help: ArgumentHelp("Folder searched for <lora:NAME:SCALE> prompt tags, NAME.safetensors (default: $SDEDIT_LORA_DIR).", valueName: "dir"))
  var loraDir: String?

  @Option(
    name: .customLong("embedding"),
    help: ArgumentHelp("A textual-inversion embedding (.safetensors); the file name is its trigger word. Repeatable.", valueName: "file"))
  var embeddings: [String] = []

  @Option(help: "none (default: the literal text, as diffusers) or a1111 (AUTOMATIC1111's (word:1.2), [word], BREAK).")
  var promptWeighting: PromptWeighting = .none

  @Flag(help: "List the weights each LoRA changes and the tokens each embedding adds, then exit without generating.")
  var loraReport = false

  func validate() throws {
    for spec in loras { _ = try Self.parse(spec) }
  }

  /// `FILE[:SCALE]`: the text after the last `:` is the scale when it is a number (paths may hold colons).
  static func parse(_ spec: String) throws -> ModelAdapters.LoRA {
    if let colon = spec.lastIndex(of: ":"), let scale = Float(spec[spec.index(after: colon)...]) {
      guard scale.isFinite else { throw ValidationError("--lora \(spec): the scale must be a finite number.") }
      guard colon > spec.startIndex else { throw ValidationError("--lora \(spec): no file before the scale.") }
      return ModelAdapters.LoRA(path: String(spec[..<colon]), scale: scale)
    }
    guard !spec.isEmpty else { throw ValidationError("--lora needs a file.") }
    return ModelAdapters.LoRA(path: spec)
  }

  /// The adapters to load the model with: `--lora` files, then the prompt's `<lora:…>` tags resolved in
  /// the LoRA folder, then `--embedding` files. With `a1111` weighting, both prompts are parsed now, so
  /// that a bad one fails before the model loads.
  func resolve(prompt: String, negativePrompt: String) throws -> ModelAdapters {
    var adapters = ModelAdapters(loras: try loras.map(Self.parse), embeddings: embeddings)
    let tags = try PromptTags.loras(in: prompt)
    if !tags.isEmpty {
      guard let dir = loraDir ?? ProcessInfo.processInfo.environment["SDEDIT_LORA_DIR"].flatMap({ $0.isEmpty ? nil : $0 }) else {
        throw CLIFailure("the prompt has <lora:\(tags[0].name):…> tags: give the folder of those LoRAs with --lora-dir DIR (or SDEDIT_LORA_DIR)")
      }
      for tag in tags {
        adapters.loras.append(ModelAdapters.LoRA(path: try Self.find(tag.name, in: dir), scale: tag.scale, promptName: tag.name))
      }
    }
    if promptWeighting == .a1111 {
      _ = try PromptAttention.parse(PromptTags.removingLoRAs(from: prompt))
      _ = try PromptAttention.parse(negativePrompt)
    }
    return adapters
  }

  /// `NAME.safetensors` in `dir` or, as A1111 lists its LoRA folder, in a folder below it.
  static func find(_ name: String, in dir: String) throws -> String {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw CLIFailure("\(dir): --lora-dir is not a folder")
    }
    guard !name.contains("/"), name != "..", name != "." else {
      throw CLIFailure("<lora:\(name):…>: the name must be a file name in \(dir), not a path")
    }
    let file = name.hasSuffix(".safetensors") ? name : name + ".safetensors"
    let direct = URL(fileURLWithPath: dir).appendingPathComponent(file)
    if fm.fileExists(atPath: direct.path) { return direct.path }
    for ext in ["pt", "ckpt", "bin", "pth"] {
      let pickled = URL(fileURLWithPath: dir).appendingPathComponent("\(name).\(ext)")
      if fm.fileExists(atPath: pickled.path) { throw CheckpointError.pickleRefused(path: pickled.path) }
    }
    let below = (fm.enumerator(atPath: dir)?.compactMap { $0 as? String } ?? [])
      .filter { URL(fileURLWithPath: $0).lastPathComponent == file }.sorted()
    guard let first = below.first else {
      throw CLIFailure("<lora:\(name):…>: no \(file) in \(dir)")
    }
    guard below.count == 1 else {
      throw CLIFailure("<lora:\(name):…>: \(below.count) files named \(file) under \(dir) (\(below.prefix(3).joined(separator: ", "))); rename one")
    }
    return URL(fileURLWithPath: dir).appendingPathComponent(first).path
  }

  /// `--lora-report`: prints the listing; true when the command should stop there.
  func report(_ model: ModelBundle) -> Bool {
    guard loraReport else { return false }
    let lines = AdapterParameters.report(model.adapters, tokenizer: model.tokenizer)
    print(lines.isEmpty ? "no LoRA or embedding given" : lines.joined(separator: "\n"))
    return true
  }
}

extension PromptWeighting: ExpressibleByArgument {}
