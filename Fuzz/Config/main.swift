// libFuzzer target: arbitrary bytes as a diffusers/transformers config.json, read by every
// config reader sdedit has (UNet, VAE, CLIP text and vision, the scheduler with each sampler).
// Each must build or throw; none may crash or allocate without bound.
import Foundation
import SDModels

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let bytes = Data(bytes: data, count: size)
  guard let config = try? JSONConfig(data: bytes, source: "fuzz/config.json") else { return 0 }
  _ = try? UNetConfig(config)
  _ = try? VAEConfig(config)
  _ = try? CLIPTextConfig(config)
  _ = try? CLIPVisionConfig(config)
  _ = try? CLIPModelConfig(config)
  let scheduler = SchedulerConfig(config)
  // The step count comes from the input too, so odd counts and spacings get explored.
  let steps = size > 0 ? Int(data[size - 1]) % 60 + 1 : 20
  for kind in [nil] + SamplerKind.allCases.map(Optional.some) {
    for karras in [false, true] {
      guard let sampler = try? makeSampler(kind: kind, config: scheduler, stepCount: steps, karras: karras) else {
        continue
      }
      _ = try? sampler.startIndex(strength: 0.5)
    }
  }
  return 0
}
