import Foundation

/// Why a CLIP tokenizer could not be loaded.
public enum CLIPTokenizerError: Error, CustomStringConvertible, Equatable {
  /// A required file of a tokenizer folder is missing.
  case missingFile(URL)
  /// A file exists but could not be read.
  case unreadable(URL, String)
  /// A file is not what a CLIP tokenizer folder holds (bad JSON, bad merges line, …).
  case invalidFile(URL, String)
  /// The vocabulary and merges do not form a usable byte-level BPE.
  case invalidVocabulary(String)
  /// The vocabulary bundled with sdedit was not found next to the executable or in the source tree.
  case bundledVocabularyMissing(searched: [URL])
  /// The bundled vocabulary file is damaged.
  case corruptBundledVocabulary(URL, String)
  /// A requested special token is not in the vocabulary.
  case unknownToken(String)

  public var description: String {
    switch self {
    case .missingFile(let url): return "CLIP tokenizer: missing file \(url.path)"
    case .unreadable(let url, let why): return "CLIP tokenizer: cannot read \(url.path): \(why)"
    case .invalidFile(let url, let why): return "CLIP tokenizer: \(url.path): \(why)"
    case .invalidVocabulary(let why): return "CLIP tokenizer: invalid vocabulary: \(why)"
    case .bundledVocabularyMissing(let searched):
      return "CLIP tokenizer: the bundled vocabulary \(CLIPBundledVocabulary.fileName) was not found; looked in "
        + searched.map(\.path).joined(separator: ", ")
        + ". Keep the folder \(CLIPBundledVocabulary.bundleName) next to the sdedit executable, or pass a model"
        + " folder that has tokenizer/vocab.json and tokenizer/merges.txt."
    case .corruptBundledVocabulary(let url, let why): return "CLIP tokenizer: \(url.path) is damaged: \(why)"
    case .unknownToken(let token): return "CLIP tokenizer: the token \"\(token)\" is not in the vocabulary"
    }
  }
}
