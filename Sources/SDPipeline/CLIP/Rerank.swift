import Foundation
import SDImage
import SDModels
import SDTensor

/// Scores images against a prompt with a CLIP model, as the DALL·E-mini inference notebook reranks
/// its samples (REFERENCE B18): the prompt tokenized with `padding="max_length", max_length=77,
/// truncation=True`, the images through `CLIPImageProcessor`, and each image's score is its
/// transformers `logits_per_image` entry (`exp(logit_scale)` × cosine similarity). Higher is better.
public struct CLIPRanker: Sendable {
  public let model: CLIPModel
  public let tokenizer: CLIPTokenizer
  public let processor: CLIPImageProcessor
  /// Images per vision forward (bounds memory for long lists).
  public var batchSize = 8

  /// Loads a Hugging Face CLIP folder: `config.json`, `model.safetensors`, the tokenizer files
  /// (`vocab.json`, `merges.txt`, …) and `preprocessor_config.json` (OpenAI's defaults when absent).
  public init(folder path: String) throws {
    let folder = try FolderCheck.folder(path, what: "a Hugging Face CLIP folder with config.json and model.safetensors")
    let model = try CLIPModel(folder: folder)
    let tokenizer = try CLIPTokenizer(folder: folder)
    let preprocessor = folder.appendingPathComponent("preprocessor_config.json")
    let processor = FileManager.default.fileExists(atPath: preprocessor.path)
      ? try CLIPImageProcessor(configURL: preprocessor) : CLIPImageProcessor.openAI
    try self.init(model: model, tokenizer: tokenizer, processor: processor, source: path)
  }

  /// Checks that the processor makes the model's input size and the tokenizer fits its positions.
  public init(model: CLIPModel, tokenizer: CLIPTokenizer, processor: CLIPImageProcessor, source: String = "CLIP model") throws {
    let side = model.config.vision.imageSize
    guard processor.outputSize == CLIPImageProcessor.PixelSize(width: side, height: side) else {
      throw ModelLoadError(
        path: source, problem: "preprocessor_config.json does not make \(side)×\(side) images for the vision model")
    }
    guard tokenizer.maxLength <= model.config.text.maxPositions else {
      throw ModelLoadError(
        path: source, problem: "the tokenizer's model_max_length \(tokenizer.maxLength) exceeds the text model's \(model.config.text.maxPositions) positions")
    }
    self.model = model
    self.tokenizer = tokenizer
    self.processor = processor
  }

  /// The prompt's ids, padded to 77 (truncated beyond 75 tokens).
  public func tokenIds(_ prompt: String) -> [Int] { tokenizer.encodePadded(prompt).ids }

  /// `get_text_features` of the prompt: `[1, projectionDim]`.
  public func textFeatures(prompt: String) -> Tensor { model.textFeatures([tokenIds(prompt)]) }

  /// `get_image_features` of the preprocessed images: `[N, projectionDim]`.
  public func imageFeatures(_ images: [RGBImage]) -> Tensor {
    precondition(!images.isEmpty, "CLIPRanker.imageFeatures: no images")
    let parts = stride(from: 0, to: images.count, by: max(1, batchSize)).map { start in
      let chunk = Array(images[start..<min(images.count, start + max(1, batchSize))])
      return model.imageFeatures(processor.pixelValues(chunk))  // [n, P]
    }
    return Tensor.concat(parts, axis: 0)  // [N, P]
  }

  /// Each image's score against `prompt` (transformers `logits_per_image[:, 0]`), in input order.
  public func scores(prompt: String, images: [RGBImage]) -> [Float] {
    guard !images.isEmpty else { return [] }
    let logits = CLIPScorer.logitsPerImage(
      imageFeatures: imageFeatures(images), textFeatures: textFeatures(prompt: prompt), logitScale: model.logitScale)
    return logits.data  // [N, 1]
  }

  /// Indices of `images` from best to worst match of `prompt`.
  public func ranking(prompt: String, images: [RGBImage]) -> [Int] {
    CLIPScorer.ranking(scores(prompt: prompt, images: images))
  }
}
