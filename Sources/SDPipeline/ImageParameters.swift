import SDModels

/// The generation parameters as AUTOMATIC1111 writes them into a PNG `tEXt` chunk named
/// `parameters` (`modules/processing.py::create_infotext`), which its readers and
/// stable-diffusion.cpp parse:
/// ```
/// <prompt>
/// Negative prompt: <negative>
/// Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 42, Size: 512x512, Model: v1-5
/// ```
public enum ImageParameters {
  /// A1111's display names for sdedit's samplers.
  public static func samplerName(_ kind: SamplerKind?, karras: Bool, defaultName: String) -> String {
    let base: String
    switch kind {
    case .ddim?: base = "DDIM"
    case .pndm?: base = "PLMS"
    case .euler?: base = "Euler"
    case .eulerAncestral?: base = "Euler a"
    case .dpmpp2m?: base = "DPM++ 2M"
    case .lms?: base = "LMS"
    case .lcm?: base = "LCM"
    case .tcd?: base = "TCD"
    case nil: base = defaultName
    }
    return karras ? base + " Karras" : base
  }

  public static func text(
    _ options: GenerationOptions, samplerName: String, model: String, extra: [(String, String)] = []
  ) -> String {
    var lines = [options.prompt]
    if !options.negativePrompt.isEmpty { lines.append("Negative prompt: \(options.negativePrompt)") }
    var fields: [(String, String)] = [
      ("Steps", "\(options.stepCount)"), ("Sampler", samplerName),
      ("CFG scale", format(options.guidanceScale)), ("Seed", "\(options.seed)"),
      ("Size", "\(options.width)x\(options.height)"), ("Model", model),
    ]
    if options.clipSkip > 0 { fields.append(("Clip skip", "\(options.clipSkip + 1)")) }
    if options.strength < 1 { fields.append(("Denoising strength", format(options.strength))) }
    if let eta = options.eta { fields.append(("Eta", format(Float(eta)))) }
    if let spacing = options.spacing { fields.append(("Timestep spacing", spacing.rawValue)) }
    fields += extra
    fields.append(("Version", "sdedit"))
    lines.append(fields.map { "\($0.0): \(quote($0.1))" }.joined(separator: ", "))
    return lines.joined(separator: "\n")
  }

  /// A1111 `infotext_utils.quote`: a value holding `,`, `:` or a newline is written as a JSON string.
  static func quote(_ value: String) -> String {
    guard value.unicodeScalars.contains(where: { $0 == "," || $0 == ":" || $0 == "\n" }) else { return value }
    return JSONString.literal(value)
  }

  static func format(_ x: Float) -> String {
    x == x.rounded() ? String(Int(x)) : String(x)
  }
}
