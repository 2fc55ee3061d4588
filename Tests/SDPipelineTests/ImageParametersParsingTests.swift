import Foundation
import SDModels
import SDPipeline
import Testing

/// `ImageParameters.parse` (what `sdedit info IMAGE` prints as JSON) reads back what
/// `ImageParameters.text` writes, and AUTOMATIC1111's own infotexts.
@Suite struct ImageParametersParsingTests {
  @Test(arguments: [
    ("a lighthouse at dusk", ""),
    ("a lighthouse,\nat dusk: oil painting", "blurry, low quality\nwatermark"),
    ("Steps: not the settings line, Sampler: x", "Negative prompt: nested"),
  ])
  func readsBackWhatSdeditWrites(prompt: String, negative: String) {
    var options = GenerationOptions(prompt: prompt)
    options.negativePrompt = negative
    options.seed = 123_456_789_012
    options.stepCount = 17
    options.guidanceScale = 6.5
    options.clipSkip = 1
    options.strength = 0.6
    let extra = [("Mask blur", "4.0")]
    let text = ImageParameters.text(options, samplerName: "DPM++ 2M Karras", model: "v1-5", extra: extra)
    let parsed = ImageParameters.parse(text)
    #expect(parsed.prompt == prompt)
    #expect(parsed.negativePrompt == negative)
    #expect(parsed["Steps"] == "\(options.stepCount)")
    #expect(parsed["Seed"] == "\(options.seed)")
    #expect(parsed["Sampler"] == "DPM++ 2M Karras")
    #expect(parsed["Size"] == "\(options.width)x\(options.height)")
    #expect(parsed["Model"] == "v1-5")
    #expect(parsed["Mask blur"] == "4.0")
    #expect(parsed["CFG scale"].flatMap(Float.init) == options.guidanceScale)
    #expect(parsed["Denoising strength"].flatMap(Float.init) == options.strength)
    #expect(parsed.settings.last?.key == "Version")
  }

  /// An infotext as AUTOMATIC1111 writes one: a quoted value with commas (`Lora hashes`).
  @Test func readsQuotedValues() {
    let settings = #"Steps: 30, Sampler: Euler a, Lora hashes: "a: 1f2e, b: 3c4d", Version: v1.9.4"#
    let parsed = ImageParameters.parse("a cat\n" + settings)
    #expect(parsed.prompt == "a cat")
    #expect(parsed.settings.map(\.key) == ["Steps", "Sampler", "Lora hashes", "Version"])
    #expect(parsed["Lora hashes"] == "a: 1f2e, b: 3c4d")
  }

  /// A text without a settings line (fewer than three pairs) is all prompt, as in A1111.
  @Test func textWithoutSettingsIsPrompt() {
    let parsed = ImageParameters.parse("just a prompt, style: oil")
    #expect(parsed.prompt == "just a prompt, style: oil")
    #expect(parsed.settings.isEmpty)
  }
}
