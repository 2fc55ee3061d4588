import Foundation
import SDTensor

/// CLIP similarity as transformers' `CLIPModel.forward` computes it (REFERENCE B18): both embeddings
/// divided by their L2 norm, their dot product, times `exp(logit_scale)`. With one prompt the score of
/// each image is its `logits_per_image` entry (≈ 100 × cosine for the trained OpenAI models).
public enum CLIPScorer {
  /// Each row of `[N, D]` divided by its Euclidean norm (transformers `_get_vector_norm`; no epsilon,
  /// so a zero row gives NaN exactly as there).
  public static func l2Normalized(_ rows: Tensor) -> Tensor {
    precondition(rows.rank == 2, "l2Normalized: expected [N, D], got \(rows.shape)")
    let n = rows.shape[0], d = rows.shape[1]
    var out = rows
    out.withUnsafeMutableBufferPointer { x in
      for i in 0..<n {
        var sum: Float = 0
        for j in 0..<d { sum += x[i * d + j] * x[i * d + j] }
        let norm = sum.squareRoot()
        for j in 0..<d { x[i * d + j] /= norm }
      }
    }
    return out
  }

  /// `logits_per_image`: `[I, T]` = `exp(logitScale) · normalize(image) · normalize(text)ᵀ`.
  /// `imageFeatures` `[I, D]` and `textFeatures` `[T, D]` are the projected features
  /// (`get_image_features` / `get_text_features`); `logitScale` is the stored (log) parameter.
  public static func logitsPerImage(imageFeatures: Tensor, textFeatures: Tensor, logitScale: Float) -> Tensor {
    precondition(
      imageFeatures.rank == 2 && textFeatures.rank == 2 && imageFeatures.shape[1] == textFeatures.shape[1],
      "logitsPerImage: image \(imageFeatures.shape) vs text \(textFeatures.shape)")
    let images = l2Normalized(imageFeatures), texts = l2Normalized(textFeatures)
    let (ni, nt, d) = (images.shape[0], texts.shape[0], images.shape[1])
    let scale = Float(exp(Double(logitScale)))
    return Tensor(shape: [ni, nt]) { out in  // [I, T]
      for i in 0..<ni {
        for t in 0..<nt {
          var dot: Float = 0
          for j in 0..<d { dot += images.data[i * d + j] * texts.data[t * d + j] }
          out[i * nt + t] = dot * scale
        }
      }
    }
  }

  /// Indices of `scores` from best to worst (descending; ties keep their input order; NaN last).
  public static func ranking(_ scores: [Float]) -> [Int] {
    scores.indices.sorted { a, b in
      let (x, y) = (scores[a], scores[b])
      if x.isNaN != y.isNaN { return y.isNaN }
      if x != y, !x.isNaN { return x > y }
      return a < b
    }
  }
}
