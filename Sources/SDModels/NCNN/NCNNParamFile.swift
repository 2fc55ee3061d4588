import Foundation

/// One layer line of an ncnn `.param` file:
/// `Type name bottom_count top_count bottom… top… key=value…`.
public struct NCNNLayerSpec: Sendable, Equatable {
  public let type: String
  public let name: String
  public let bottoms: [String]
  public let tops: [String]
  public let params: NCNNParamDict
  /// 1-based line number in the file.
  public let line: Int
}

/// The text form of an ncnn graph (Tencent/ncnn src/net.cpp `Net::load_param`): the magic number
/// 7767517, a line `layer_count blob_count`, then one line per layer in execution order.
///
/// Parsing validates what ncnn takes on trust: the declared counts match the lines and the distinct
/// blobs, every blob a layer reads was produced by an earlier layer (no dangling or forward
/// references), no blob is produced twice, and layer names are unique.
public struct NCNNParamFile: Sendable {
  public static let magic = "7767517"
  /// Larger `.param` files are refused before reading (Real-ESRGAN x4plus: 117 KB).
  public static let maxFileSize = 64 << 20
  public static let maxLayerCount = 1 << 20

  public let file: String
  public let layers: [NCNNLayerSpec]
  public let blobCount: Int

  /// Reads and parses the file at `path`.
  public static func read(path: String) throws(NCNNError) -> NCNNParamFile {
    try NCNNError.checkReadable(path)
    let data: Data
    do {
      let attributes = try FileManager.default.attributesOfItem(atPath: path)
      if let size = attributes[.size] as? Int, size > maxFileSize {
        throw NCNNError.malformedParam(file: path, line: 0, reason: "file is \(size) bytes, more than any ncnn graph sdedit accepts (\(maxFileSize))")
      }
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch let error as NCNNError {
      throw error
    } catch {
      throw .unreadable(file: path, reason: (error as NSError).localizedFailureReason ?? error.localizedDescription)
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw .malformedParam(file: path, line: 0, reason: "not UTF-8 text (a binary .param.bin is not supported)")
    }
    return try parse(text, file: path)
  }

  /// Parses `.param` text; `file` names it in errors.
  public static func parse(_ text: String, file: String) throws(NCNNError) -> NCNNParamFile {
    func fail(_ line: Int, _ reason: String) -> NCNNError { .malformedParam(file: file, line: line, reason: reason) }
    // (line number, tokens) of every non-blank line.
    // (Swift reads "\r\n" as one Character; the files in the wild use both line endings.)
    let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated().compactMap {
      index, line -> (Int, [Substring])? in
      let tokens = line.split(whereSeparator: \.isWhitespace)
      return tokens.isEmpty ? nil : (index + 1, tokens)
    }
    guard let first = lines.first, first.1 == [Substring(magic)] else {
      let found = lines.first.map { $0.1.joined(separator: " ") } ?? "an empty file"
      throw fail(lines.first?.0 ?? 1, "bad magic: expected \(magic), found '\(found.prefix(32))'")
    }
    guard lines.count >= 2 else { throw fail(first.0, "missing the 'layer_count blob_count' line") }
    let header = lines[1]
    guard header.1.count == 2, let layerCount = Int(header.1[0]), let blobCount = Int(header.1[1]),
      (1...maxLayerCount).contains(layerCount), (1...maxLayerCount * 4).contains(blobCount)
    else {
      throw fail(header.0, "expected 'layer_count blob_count' (two positive integers), found '\(header.1.joined(separator: " "))'")
    }
    let body = lines[2...]
    guard body.count == layerCount else {
      throw fail(body.last?.0 ?? header.0, "the header declares \(layerCount) layers but the file has \(body.count)")
    }

    var layers: [NCNNLayerSpec] = []
    layers.reserveCapacity(layerCount)
    var producer: [String: String] = [:]  // blob → the layer that produces it
    var layerNames = Set<String>()
    for (lineNumber, tokens) in body {
      guard tokens.count >= 4, let nIn = Int(tokens[2]), let nOut = Int(tokens[3]),
        (0...4096).contains(nIn), (0...4096).contains(nOut)
      else {
        throw fail(lineNumber, "expected 'Type name input_count output_count …'")
      }
      guard tokens.count >= 4 + nIn + nOut else {
        throw fail(lineNumber, "layer \(tokens[1]) declares \(nIn) inputs and \(nOut) outputs but names fewer blobs")
      }
      let type = String(tokens[0]), name = String(tokens[1])
      let bottoms = tokens[4..<(4 + nIn)].map(String.init)
      let tops = tokens[(4 + nIn)..<(4 + nIn + nOut)].map(String.init)
      let params: NCNNParamDict
      switch NCNNParamDict.parse(tokens[(4 + nIn + nOut)...]) {
      case .success(let dict): params = dict
      case .failure(let failure): throw fail(lineNumber, "layer \(name): \(failure.reason)")
      }
      guard layerNames.insert(name).inserted else { throw fail(lineNumber, "layer name \(name) is used twice") }
      for blob in bottoms where producer[blob] == nil {
        throw NCNNError.badBlobReference(
          file: file, layer: name, reason: "reads blob '\(blob)', which no earlier layer produces (dangling blob)")
      }
      for blob in tops {
        if let other = producer[blob] {
          throw NCNNError.badBlobReference(file: file, layer: name, reason: "produces blob '\(blob)', already produced by layer \(other)")
        }
        producer[blob] = name
      }
      layers.append(NCNNLayerSpec(type: type, name: name, bottoms: bottoms, tops: tops, params: params, line: lineNumber))
    }
    guard producer.count == blobCount else {
      throw fail(header.0, "the header declares \(blobCount) blobs but the layers name \(producer.count)")
    }
    return NCNNParamFile(file: file, layers: layers, blobCount: blobCount)
  }
}
