/// A small, validating gzip (RFC 1952) + DEFLATE (RFC 1951) decoder, so the bundled CLIP vocabulary
/// (`bpe_simple_vocab_16e6.txt.gz`) can be read without linking zlib (Foundation on Linux has no public
/// gunzip API). Decoding follows the RFCs the way Mark Adler's reference decoder `puff.c` does
/// (canonical Huffman codes built from code lengths), with one flat lookup table per code for speed.
///
/// Every malformed input (bad header, over-subscribed code, distance before the start of the output,
/// truncated stream, CRC-32 or length mismatch) throws an `InflateError`; nothing traps.
enum Inflate {
  /// Decompresses every member of a gzip file and checks each member's CRC-32 and length.
  /// - Parameter maxOutput: refuse to produce more than this many bytes (guards against bombs).
  static func gunzip(_ data: [UInt8], maxOutput: Int = 1 << 28) throws -> [UInt8] {
    var output: [UInt8] = []
    var offset = 0
    repeat {
      let memberStart = output.count
      offset = try skipGzipHeader(data, at: offset)
      var reader = BitReader(data, offset: offset)
      try inflate(&reader, into: &output, maxOutput: maxOutput)
      offset = reader.alignedByteOffset
      guard offset + 8 <= data.count else { throw InflateError.truncated }
      let storedCRC = readLE32(data, offset)
      let storedSize = readLE32(data, offset + 4)
      offset += 8
      let member = output[memberStart...]
      guard CRC32.checksum(member) == storedCRC else { throw InflateError.checksumMismatch }
      guard UInt32(truncatingIfNeeded: member.count) == storedSize else { throw InflateError.sizeMismatch }
    } while offset < data.count
    return output
  }

  /// Returns the offset of the DEFLATE stream that follows the gzip member header at `offset`.
  private static func skipGzipHeader(_ data: [UInt8], at start: Int) throws -> Int {
    guard start + 10 <= data.count else { throw InflateError.truncated }
    guard data[start] == 0x1f, data[start + 1] == 0x8b else { throw InflateError.badHeader("not a gzip file") }
    guard data[start + 2] == 8 else { throw InflateError.badHeader("compression method is not DEFLATE") }
    let flags = data[start + 3]
    guard flags & 0xE0 == 0 else { throw InflateError.badHeader("reserved flag bits set") }
    var offset = start + 10
    if flags & 0x04 != 0 {  // FEXTRA
      guard offset + 2 <= data.count else { throw InflateError.truncated }
      offset += 2 + (Int(data[offset]) | Int(data[offset + 1]) << 8)
    }
    for flag: UInt8 in [0x08, 0x10] where flags & flag != 0 {  // FNAME, FCOMMENT: zero-terminated
      while offset < data.count, data[offset] != 0 { offset += 1 }
      offset += 1
    }
    if flags & 0x02 != 0 { offset += 2 }  // FHCRC
    guard offset <= data.count else { throw InflateError.truncated }
    return offset
  }

  private static func readLE32(_ data: [UInt8], _ i: Int) -> UInt32 {
    UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
  }

  // MARK: - DEFLATE

  /// Decodes one raw DEFLATE stream (a sequence of blocks ending with BFINAL) and appends to `output`.
  static func inflate(_ reader: inout BitReader, into output: inout [UInt8], maxOutput: Int) throws {
    var isFinal = false
    while !isFinal {
      isFinal = try reader.bits(1) == 1
      switch try reader.bits(2) {
      case 0: try copyStored(&reader, into: &output, maxOutput: maxOutput)
      case 1: try decodeBlock(&reader, Self.fixedCodes.literal, Self.fixedCodes.distance, &output, maxOutput)
      case 2:
        let (literal, distance) = try readDynamicCodes(&reader)
        try decodeBlock(&reader, literal, distance, &output, maxOutput)
      default: throw InflateError.badBlockType
      }
    }
  }

  private static func copyStored(_ reader: inout BitReader, into output: inout [UInt8], maxOutput: Int) throws {
    var offset = reader.alignedByteOffset
    guard offset + 4 <= reader.data.count else { throw InflateError.truncated }
    let length = Int(reader.data[offset]) | Int(reader.data[offset + 1]) << 8
    let complement = Int(reader.data[offset + 2]) | Int(reader.data[offset + 3]) << 8
    guard length == complement ^ 0xFFFF else { throw InflateError.badStoredLength }
    offset += 4
    guard offset + length <= reader.data.count else { throw InflateError.truncated }
    guard output.count + length <= maxOutput else { throw InflateError.outputTooLarge }
    output.append(contentsOf: reader.data[offset..<offset + length])
    reader = BitReader(reader.data, offset: offset + length)
  }

  // RFC 1951 §3.2.5: base values and extra-bit counts of length codes 257…285 and distance codes 0…29.
  private static let lengthBase: [Int] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
  ]
  private static let lengthExtra: [Int] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
  ]
  private static let distanceBase: [Int] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
    4097, 6145, 8193, 12289, 16385, 24577,
  ]
  private static let distanceExtra: [Int] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
  ]

  /// Decodes literal/length + distance symbols until end-of-block (256).
  private static func decodeBlock(
    _ reader: inout BitReader, _ literal: HuffmanCode, _ distance: HuffmanCode,
    _ output: inout [UInt8], _ maxOutput: Int
  ) throws {
    while true {
      let symbol = try literal.decode(&reader)
      if symbol < 256 {
        guard output.count < maxOutput else { throw InflateError.outputTooLarge }
        output.append(UInt8(symbol))
        continue
      }
      if symbol == 256 { return }
      let lengthIndex = symbol - 257
      guard lengthIndex < lengthBase.count else { throw InflateError.badSymbol }
      let length = lengthBase[lengthIndex] + (try reader.bits(lengthExtra[lengthIndex]))
      let distanceIndex = try distance.decode(&reader)
      guard distanceIndex < distanceBase.count else { throw InflateError.badSymbol }
      let back = distanceBase[distanceIndex] + (try reader.bits(distanceExtra[distanceIndex]))
      guard back <= output.count else { throw InflateError.badDistance }
      guard output.count + length <= maxOutput else { throw InflateError.outputTooLarge }
      // Byte by byte: a match may overlap the bytes it produces (distance < length).
      var source = output.count - back
      for _ in 0..<length {
        output.append(output[source])
        source += 1
      }
    }
  }

  /// RFC 1951 §3.2.7: the code-length code, then literal/length and distance code lengths.
  private static func readDynamicCodes(_ reader: inout BitReader) throws -> (HuffmanCode, HuffmanCode) {
    let literalCount = try reader.bits(5) + 257
    let distanceCount = try reader.bits(5) + 1
    let codeLengthCount = try reader.bits(4) + 4
    guard literalCount <= 286, distanceCount <= 30 else { throw InflateError.badHuffmanTable("too many codes") }
    let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    var codeLengthLengths = [Int](repeating: 0, count: 19)
    for i in 0..<codeLengthCount { codeLengthLengths[order[i]] = try reader.bits(3) }
    let codeLengthCode = try HuffmanCode(lengths: codeLengthLengths)

    var lengths: [Int] = []
    lengths.reserveCapacity(literalCount + distanceCount)
    while lengths.count < literalCount + distanceCount {
      let symbol = try codeLengthCode.decode(&reader)
      switch symbol {
      case 0...15: lengths.append(symbol)
      case 16:
        guard let previous = lengths.last else { throw InflateError.badHuffmanTable("repeat with no length") }
        lengths += repeatElement(previous, count: 3 + (try reader.bits(2)))
      case 17: lengths += repeatElement(0, count: 3 + (try reader.bits(3)))
      default: lengths += repeatElement(0, count: 11 + (try reader.bits(7)))
      }
    }
    guard lengths.count == literalCount + distanceCount else { throw InflateError.badHuffmanTable("lengths overrun") }
    guard lengths[256] != 0 else { throw InflateError.badHuffmanTable("no end-of-block code") }
    let literal = try HuffmanCode(lengths: Array(lengths[0..<literalCount]))
    let distance = try HuffmanCode(lengths: Array(lengths[literalCount...]))
    return (literal, distance)
  }

  /// RFC 1951 §3.2.6: the fixed literal/length and distance codes.
  private static let fixedCodes: (literal: HuffmanCode, distance: HuffmanCode) = {
    var lengths = [Int](repeating: 8, count: 288)
    for i in 144..<256 { lengths[i] = 9 }
    for i in 256..<280 { lengths[i] = 7 }
    return (HuffmanCode(validLengths: lengths), HuffmanCode(validLengths: [Int](repeating: 5, count: 30)))
  }()
}

/// A canonical Huffman code (RFC 1951 §3.2.2) decoded through one flat table indexed by the next
/// `maxLength` input bits (least-significant bit first, i.e. bit-reversed codes).
struct HuffmanCode {
  /// entry = symbol << 4 | code length; 0 marks a bit pattern no code starts with.
  private var table: [UInt32]
  private let maxLength: Int

  /// Validates `lengths` (0…15 each, not over-subscribed; incomplete codes are allowed, their unused
  /// bit patterns decode to an error) and builds the table.
  init(lengths: [Int]) throws {
    var count = [Int](repeating: 0, count: 16)
    for length in lengths {
      guard (0...15).contains(length) else { throw InflateError.badHuffmanTable("code length > 15") }
      count[length] += 1
    }
    var left = 1  // over-subscription check, as puff.c's construct()
    for length in 1...15 {
      left = left * 2 - count[length]
      guard left >= 0 else { throw InflateError.badHuffmanTable("over-subscribed code") }
    }
    self.init(validLengths: lengths)
  }

  /// Builds the table for code lengths already known to be valid (the fixed codes).
  init(validLengths lengths: [Int]) {
    var count = [Int](repeating: 0, count: 16)
    for length in lengths { count[length] += 1 }
    maxLength = max(1, (1...15).last { count[$0] > 0 } ?? 1)
    // RFC 1951 §3.2.2: first code of each length.
    var nextCode = [Int](repeating: 0, count: 16)
    var code = 0
    for length in 2...15 {
      code = (code + count[length - 1]) << 1
      nextCode[length] = code
    }
    table = [UInt32](repeating: 0, count: 1 << maxLength)
    for (symbol, length) in lengths.enumerated() where length > 0 {
      let codeValue = nextCode[length]
      nextCode[length] += 1
      var reversed = 0
      for bit in 0..<length where codeValue & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
      var index = reversed
      while index < table.count {
        table[index] = UInt32(symbol) << 4 | UInt32(length)
        index += 1 << length
      }
    }
  }

  func decode(_ reader: inout BitReader) throws -> Int {
    let entry = table[reader.peek(maxLength)]
    let length = Int(entry & 15)
    guard length > 0 else { throw InflateError.badSymbol }
    try reader.consume(length)
    return Int(entry >> 4)
  }
}

/// Reads DEFLATE's least-significant-bit-first bit stream. Past the end it supplies zero bits for
/// `peek` but `consume`/`bits` throw `.truncated`, so a short stream can never loop or read out of bounds.
struct BitReader {
  let data: [UInt8]
  private var position: Int  // next byte to load into `buffer`
  private var buffer: UInt64 = 0
  private var available = 0  // valid bits in `buffer` (bits past the end of `data` are not counted)

  init(_ data: [UInt8], offset: Int) {
    self.data = data
    self.position = offset
  }

  /// Byte offset just after the current position, rounded up to a whole byte (for stored blocks and trailers).
  var alignedByteOffset: Int { position - available / 8 }

  private mutating func refill() {
    while available <= 56, position < data.count {
      buffer |= UInt64(data[position]) << UInt64(available)
      position += 1
      available += 8
    }
  }

  mutating func peek(_ count: Int) -> Int {
    if available < count { refill() }
    return Int(truncatingIfNeeded: buffer & ((1 << UInt64(count)) - 1))
  }

  mutating func consume(_ count: Int) throws {
    if available < count { refill() }
    guard available >= count else { throw InflateError.truncated }
    buffer >>= UInt64(count)
    available -= count
  }

  mutating func bits(_ count: Int) throws -> Int {
    if count == 0 { return 0 }
    let value = peek(count)
    try consume(count)
    return value
  }
}

/// CRC-32 (ISO 3309, polynomial 0xEDB88320 reflected), as used by the gzip trailer.
enum CRC32 {
  private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
  }

  static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    return crc ^ 0xFFFF_FFFF
  }
}

/// Why a gzip/DEFLATE stream could not be decoded.
enum InflateError: Error, CustomStringConvertible, Equatable {
  case truncated
  case badHeader(String)
  case badBlockType
  case badStoredLength
  case badHuffmanTable(String)
  case badSymbol
  case badDistance
  case checksumMismatch
  case sizeMismatch
  case outputTooLarge

  var description: String {
    switch self {
    case .truncated: return "compressed data ends early"
    case .badHeader(let why): return "bad gzip header: \(why)"
    case .badBlockType: return "invalid DEFLATE block type"
    case .badStoredLength: return "stored block length does not match its complement"
    case .badHuffmanTable(let why): return "invalid Huffman table: \(why)"
    case .badSymbol: return "invalid Huffman symbol"
    case .badDistance: return "back-reference before the start of the data"
    case .checksumMismatch: return "CRC-32 mismatch"
    case .sizeMismatch: return "uncompressed length mismatch"
    case .outputTooLarge: return "uncompressed data exceeds the size limit"
    }
  }
}
