import Foundation

/// AUTOMATIC1111's LoRA prompt tags, `<lora:NAME>` and `<lora:NAME:MULTIPLIER>`
/// (`modules/extra_networks.py` `parse_prompt`: regex `<(\w+):([^>]+)>`, the arguments split at `:`;
/// `extensions-builtin/Lora/extra_networks_lora.py`: the first is the name, the second the
/// multiplier, 1.0 when absent). Like A1111, the tags are removed from the prompt before it is
/// tokenized, with or without `--prompt-weighting`; only the positive prompt is searched. Tags of
/// other networks (`<hypernet:…>`) stay text, and per-part multipliers (`<lora:name:te:unet>`,
/// `te=`/`unet=`) are refused.
public enum PromptTags {
  public struct LoRATag: Equatable, Sendable {
    public let name: String
    public let scale: Float

    public init(name: String, scale: Float) {
      (self.name, self.scale) = (name, scale)
    }
  }

  static let opening = Array("<lora:".unicodeScalars)

  /// The LoRA tags in `prompt`, in order.
  public static func loras(in prompt: String) throws -> [LoRATag] {
    try tags(in: prompt).map { range, arguments in
      let text = String(String.UnicodeScalarView(Array(prompt.unicodeScalars)[range]))
      let items = arguments.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
      guard items.count <= 2, !items.contains(where: { $0.contains("=") }) else {
        throw PromptWeightingError("prompt tag \(text): only <lora:NAME> and <lora:NAME:MULTIPLIER> are supported")
      }
      let name = items[0]
      guard !name.isEmpty else { throw PromptWeightingError("prompt tag \(text) has no LoRA name") }
      var scale: Float = 1
      if items.count == 2 {
        guard let value = Float(items[1].trimmingCharacters(in: .whitespaces)), value.isFinite else {
          throw PromptWeightingError("prompt tag \(text): the multiplier '\(items[1])' is not a number")
        }
        scale = value
      }
      return LoRATag(name: name, scale: scale)
    }
  }

  /// `prompt` without its LoRA tags (each replaced by nothing, as `re.sub` does in A1111).
  public static func removingLoRAs(from prompt: String) -> String {
    let found = tags(in: prompt)
    guard !found.isEmpty else { return prompt }
    let scalars = Array(prompt.unicodeScalars)
    var out = String.UnicodeScalarView()
    var start = 0
    for (range, _) in found {
      out.append(contentsOf: scalars[start..<range.lowerBound])
      start = range.upperBound
    }
    out.append(contentsOf: scalars[start...])
    return String(out)
  }

  /// Each tag's scalar range and its argument text (`NAME:MULTIPLIER`).
  static func tags(in prompt: String) -> [(range: Range<Int>, arguments: String)] {
    let s = Array(prompt.unicodeScalars)
    var found: [(Range<Int>, String)] = []
    var i = 0
    while i + opening.count < s.count {
      guard s[i..<(i + opening.count)].elementsEqual(opening) else {
        i += 1
        continue
      }
      let argumentStart = i + opening.count
      guard let close = s[argumentStart...].firstIndex(of: ">"), close > argumentStart else {
        i += 1
        continue
      }
      var arguments = String.UnicodeScalarView()
      arguments.append(contentsOf: s[argumentStart..<close])
      found.append((i..<(close + 1), String(arguments)))
      i = close + 1
    }
    return found
  }
}
